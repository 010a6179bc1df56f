#!/usr/bin/env bash
# Create (or reuse) .venv, install duoweb with its development extras, build the speedups.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e ".[dev]"
# Compile duoweb/_speedups/*.pyx next to their sources (a failed compile only warns).
.venv/bin/python setup.py -q build_ext --inplace
.venv/bin/python -c "import duoweb; print('duoweb speedups:', duoweb.speedups_report())"
