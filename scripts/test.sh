#!/usr/bin/env bash
# Set up the environment, then run lint, type checks, the docs build and the whole test suite
# twice: on the compiled speedups, then on their pure-Python twins (DUOWEB_NO_EXTENSIONS=1).
# Coverage is measured over both runs; the second prints it and fails below the floor set in
# pyproject.toml ([tool.coverage.report] fail_under). Arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/provision_apache.sh || case "${CI:-}" in "" | 0 | false) ;; *) exit 1 ;; esac  # outside CI the Apache tests skip, saying why
# The rate-limit e2e tests share a Redis between Gunicorn workers; stopped again on exit.
trap 'bash scripts/provision_redis.sh stop' EXIT
bash scripts/provision_redis.sh start || case "${CI:-}" in "" | 0 | false) ;; *) exit 1 ;; esac  # outside CI those tests skip, saying why
bash scripts/provision_system.sh || case "${CI:-}" in "" | 0 | false) ;; *) exit 1 ;; esac  # nginx, Chromium: likewise
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
# cython-lint runs pycodestyle, which it finds on PATH: the one in .venv.
PATH="$PWD/.venv/bin:$PATH" .venv/bin/cython-lint duoweb/_speedups/*.pyx duoweb/_speedups/*.pxd
.venv/bin/python -m mypy --strict
# pyright strict over duoweb/ ([tool.pyright] in pyproject.toml). Nothing is downloaded: the
# pyright wheel ships pyright itself and the pyright[nodejs] extra a Node.js binary (preferred
# to any node on PATH); IGNORE_WARNINGS skips its look-up of a newer release on PyPI. --project .
# reads this checkout's pyproject even when a pyrightconfig.json sits in a parent directory.
PYRIGHT_PYTHON_IGNORE_WARNINGS=1 .venv/bin/pyright --project .
.venv/bin/python -m mkdocs build --strict --quiet
echo "== pytest, compiled speedups"
.venv/bin/python -m pytest --cov --cov-report= --cov-fail-under=0 "$@"  # the floor is judged on both runs
echo "== pytest, pure-Python twins (DUOWEB_NO_EXTENSIONS=1)"
DUOWEB_NO_EXTENSIONS=1 DUOWEB_REQUIRE_EXTENSIONS='' \
  .venv/bin/python -m pytest --cov --cov-append --cov-report=term:skip-covered "$@"
