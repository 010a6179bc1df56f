#!/usr/bin/env bash
# Set up the environment, then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/provision_apache.sh || case "${CI:-}" in "" | 0 | false) ;; *) exit 1 ;; esac  # outside CI the Apache tests skip, saying why
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy --strict
.venv/bin/python -m pytest "$@"
