#!/usr/bin/env bash
# Set up the environment, then serve the todo example (examples/todo) on http://127.0.0.1:8000.
# SERVER=gunicorn serves it as WSGI with sync workers; the default is Hypercorn (ASGI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
TARGET=${TARGET:-examples.todo.app:app}
case "${SERVER:-hypercorn}" in
  gunicorn) exec .venv/bin/gunicorn -k sync -w "${WORKERS:-2}" -b 127.0.0.1:8000 "$TARGET" ;;
  hypercorn) exec .venv/bin/hypercorn -w "${WORKERS:-2}" -b 127.0.0.1:8000 "asgi:$TARGET" ;;
  *) echo "SERVER must be gunicorn or hypercorn" >&2; exit 2 ;;
esac
