#!/usr/bin/env bash
# Set up the environment (runtime extras only), then serve the todo example (examples/todo) on
# http://127.0.0.1:$PORT (8000 by default).
# SERVER=gunicorn serves it as WSGI with sync workers; the default is Hypercorn (ASGI). Also
# SERVER=uvicorn, SERVER=granian (its ASGI interface). WORKERS (2), TARGET (module:app).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
WORKERS=${WORKERS:-2}
TARGET=${TARGET:-examples.todo.app:app}
SERVER=${SERVER:-hypercorn}
case "$SERVER" in
  gunicorn | hypercorn | uvicorn | granian) ;;
  *) echo "SERVER must be gunicorn, hypercorn, uvicorn or granian, not '$SERVER'" >&2; exit 2 ;;
esac
port_taken() {
  .venv/bin/python -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$PORT"
}
bash scripts/setup.sh serve
if port_taken; then
  echo "serve.sh: port $PORT on 127.0.0.1 is already in use; choose another, e.g. PORT=8001 bash scripts/serve.sh" >&2
  exit 1
fi
case "$SERVER" in
  gunicorn) exec .venv/bin/gunicorn -k sync -w "$WORKERS" -b "127.0.0.1:$PORT" "$TARGET" ;;
  hypercorn) exec .venv/bin/hypercorn -w "$WORKERS" -b "127.0.0.1:$PORT" "$TARGET" ;;
  uvicorn) exec .venv/bin/uvicorn --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" "$TARGET" ;;
  granian) exec .venv/bin/granian --interface asgi --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" "$TARGET" ;;
esac
