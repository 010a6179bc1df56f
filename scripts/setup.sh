#!/usr/bin/env bash
# Create (or reuse) .venv, install duoweb and what it needs, build the speedups.
#   bash scripts/setup.sh          development: the dev extra (every tool and server the tests
#                                  use) and the pinned benchmark peers (benchmarks/requirements.txt)
#   bash scripts/setup.sh serve    serving only: the runtime extras (servers, docs page, forms...)
# duoweb is installed editable in "compat" mode (a plain path in a .pth file), so that mypy and
# pyright find it from the .venv for files outside this checkout too.
# A second call with nothing changed returns in about a second: a stamp in .venv records what
# was installed and built (the hashes of pyproject.toml, setup.py, the requirements and the
# .pyx/.pxd sources); a change, a missing compiled module or a new mode redoes the work.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-dev}
case "$MODE" in
  dev) EXTRAS=dev REQUIREMENTS=(-r benchmarks/requirements.txt) ;;
  serve) EXTRAS=servers,docs,forms,pydantic,compression REQUIREMENTS=() ;;
  *) echo "setup.sh: unknown mode '$MODE' (dev or serve)" >&2; exit 2 ;;
esac
PYTHON=${PYTHON:-python3}
if ! .venv/bin/python -c "" 2>/dev/null; then
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi
no_extensions=false
case "${DUOWEB_NO_EXTENSIONS:-}" in "" | 0) ;; *) no_extensions=true ;; esac
fingerprint=$(
  {
    echo "no_extensions=$no_extensions"
    .venv/bin/python -c "import sys; print(sys.version)"
    cat pyproject.toml setup.py benchmarks/requirements.txt duoweb/_speedups/*.pyx
    cat duoweb/_speedups/*.pxd 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1
)
compiled() {
  # Every .pyx has its compiled module next to it (or the speedups are switched off).
  "$no_extensions" && return 0
  local source
  for source in duoweb/_speedups/*.pyx; do
    compgen -G "${source%.pyx}.*.so" >/dev/null || return 1
  done
}
# A dev install serves too: it holds every runtime extra.
stamps=(".venv/.duoweb-setup-$MODE")
[ "$MODE" = serve ] && stamps+=(.venv/.duoweb-setup-dev)
up_to_date=false
for stamp in "${stamps[@]}"; do
  if [ "$(cat "$stamp" 2>/dev/null)" = "$fingerprint" ] && compiled; then up_to_date=true; fi
done
if ! "$up_to_date"; then
  rm -f .venv/.duoweb-setup-*
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -e ".[$EXTRAS]" "${REQUIREMENTS[@]}" \
    --config-settings editable_mode=compat
  # Compile duoweb/_speedups/*.pyx next to their sources (a failed compile only warns).
  .venv/bin/python setup.py -q build_ext --inplace
  echo "$fingerprint" >".venv/.duoweb-setup-$MODE"
fi
.venv/bin/python -c "import duoweb; print('duoweb speedups:', duoweb.speedups_report())"
