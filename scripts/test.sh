#!/usr/bin/env bash
# Set up the environment, then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/provision_apache.sh || case "${CI:-}" in "" | 0 | false) ;; *) exit 1 ;; esac  # outside CI the Apache tests skip, saying why
# The rate-limit e2e tests share a Redis between Gunicorn workers; stopped again on exit.
trap 'bash scripts/provision_redis.sh stop' EXIT
bash scripts/provision_redis.sh start || case "${CI:-}" in "" | 0 | false) ;; *) exit 1 ;; esac  # outside CI those tests skip, saying why
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy --strict
.venv/bin/python -m pytest "$@"
