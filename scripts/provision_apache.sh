#!/usr/bin/env bash
# Provision the Apache + mod_wsgi deployment tests (tests/deploy/test_apache.py and the
# mod_wsgi case of tests/deploy/test_servers.py). scripts/test.sh runs it before pytest.
#
# Apache runs the app in mod_wsgi daemon processes as an unprivileged user (www-data), and that
# user cannot read a Python installed under /root (pyenv), nor this checkout's .venv. So this
# script builds what users deploy: an environment every user can read.
#   1. Debian's apache2, apache2-dev, python3-dev and python3-venv (apt-get, as root, without
#      starting the Apache service).
#   2. A virtualenv made by Debian's /usr/bin/python3, in $DUOWEB_APACHE_ENV (default:
#      /var/lib/duoweb-test/<this checkout's path, '/' written as '-'>), readable by all.
#   3. mod_wsgi from PyPI, compiled in it against that Apache and that Python: it provides
#      mod_wsgi-express and the module an Apache configuration loads.
#   4. duoweb from this checkout's current files (a regular install, not an editable one), with
#      its speedups compiled for that Python; reinstalled whenever those files change.
# The environment's path is written to build/apache-env, where the tests look for it; the file
# exists only after a run that succeeded. Every step is skipped when already done, so a second
# run takes a second or two. Each network or compile step has a time limit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
umask 022

APT_PACKAGES=(apache2 apache2-dev python3-dev python3-venv gcc)
BASE_PYTHON=${DUOWEB_APACHE_BASE_PYTHON:-/usr/bin/python3}
DAEMON_USER=${DUOWEB_APACHE_USER:-www-data}
checkout=${ROOT#/}
ENV_DIR=${DUOWEB_APACHE_ENV:-/var/lib/duoweb-test/${checkout//\//-}}
POINTER=build/apache-env
PY="$ENV_DIR/bin/python"

say() { echo "provision_apache: $*"; }
fail() {
  echo "provision_apache: error: $*" >&2
  echo "provision_apache: the Apache tests will not find an environment (see above)." >&2
  exit 1
}
# Run a step with a time limit; on failure show the end of its output.
step() {
  local limit=$1 what=$2
  shift 2
  local log code=0
  log=$(mktemp)
  timeout "$limit" "$@" >"$log" 2>&1 || code=$?
  if [ "$code" -ne 0 ]; then
    tail -n 25 "$log" >&2
    rm -f "$log"
    [ "$code" -eq 124 ] && fail "$what took more than $limit s"
    fail "$what failed (exit code $code)"
  fi
  rm -f "$log"
}
# Files this run made that must go even if it fails.
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

rm -f "$POINTER"

# --- 1. Debian packages -------------------------------------------------------------------
missing=()
for package in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "missing ${missing[*]}, and there is no apt-get here (this script knows Debian and Ubuntu)"
  [ "$(id -u)" -eq 0 ] || fail "missing ${missing[*]}: run this script as root, or: sudo apt-get install ${missing[*]}"
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package's maintainer scripts from starting Apache on port 80 (policy-rc.d, 101).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# added by duoweb scripts/provision_apache.sh while apt-get runs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    cleanup+=("$policy")
  fi
  # A failed update is not fatal: the package lists may already be good enough.
  timeout 180 apt-get -o DPkg::Lock::Timeout=120 update -qq || say "apt-get update failed; trying the install anyway"
  step 600 "apt-get install ${missing[*]}" \
    apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v apxs >/dev/null || fail "apxs is missing after installing apache2-dev"

# --- 2. the readable environment ----------------------------------------------------------
[ -x "$BASE_PYTHON" ] || fail "$BASE_PYTHON does not exist (set DUOWEB_APACHE_BASE_PYTHON to a Python every user can run)"
if [ ! -x "$PY" ] || ! "$PY" -c "" 2>/dev/null; then
  say "creating $ENV_DIR from $BASE_PYTHON"
  rm -rf "$ENV_DIR"
  mkdir -p "$ENV_DIR" 2>/dev/null ||
    fail "cannot create $ENV_DIR: run as root, or set DUOWEB_APACHE_ENV to a directory you can write and every user can read"
  step 120 "$BASE_PYTHON -m venv $ENV_DIR" "$BASE_PYTHON" -m venv "$ENV_DIR"
fi
# Every directory from / down to the environment must let other users through.
dir=$ENV_DIR
while [ "$dir" != / ]; do
  if [ -O "$dir" ]; then chmod a+rx "$dir"; fi
  dir=$(dirname "$dir")
done
pip_install() { step 600 "pip install $*" "$PY" -m pip install -q --disable-pip-version-check "$@"; }

# --- 3. mod_wsgi, compiled against this Apache and this Python ----------------------------
module=$("$ENV_DIR/bin/mod_wsgi-express" module-location 2>/dev/null || true)
if [ -z "$module" ] || [ ! -f "$module" ]; then
  say "building mod_wsgi in $ENV_DIR (apxs: $(command -v apxs))"
  # No wheel cache: a wheel built against another Apache or Python must not be reused.
  pip_install --no-cache-dir "mod_wsgi>=5"
  module=$("$ENV_DIR/bin/mod_wsgi-express" module-location) || fail "mod_wsgi-express does not run"
fi

# --- 4. duoweb from this checkout ---------------------------------------------------------
source_hash=$(find duoweb setup.py pyproject.toml -type f \
  \( -name '*.py' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pyi' -o -name '*.toml' -o -name py.typed \) \
  -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
stamp="$ENV_DIR/duoweb-source.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$source_hash" ]; then
  say "installing duoweb from $ROOT into $ENV_DIR (compiling the speedups)"
  # Build from a copy without the in-place build products of .venv's Python.
  copy=$(mktemp -d)
  cleanup+=("$copy")
  tar -c --exclude='*.so' --exclude='*.c' --exclude=__pycache__ \
    duoweb setup.py pyproject.toml README.md LICENSE | tar -x -C "$copy"
  rm -f "$stamp"
  "$PY" -m pip uninstall -q -y duoweb >/dev/null 2>&1 || true
  pip_install "$copy"
fi
# --- the daemon's user must be able to use it all, compiled -------------------------------
# Run from / so that the installed duoweb is imported, not this checkout's.
check='import duoweb, mod_wsgi, sys
pure = sorted(name for name, kind in duoweb.speedups_report().items() if kind != "compiled")
sys.exit(f"duoweb from {duoweb.__file__} runs these speedups as pure Python: {pure}" if pure else 0)'
as_daemon=()
if [ "$(id -u)" -eq 0 ]; then
  id "$DAEMON_USER" >/dev/null 2>&1 || fail "there is no user $DAEMON_USER to run mod_wsgi's daemon processes (set DUOWEB_APACHE_USER)"
  as_daemon=(runuser -u "$DAEMON_USER" --)
fi
(cd / && DUOWEB_NO_EXTENSIONS='' "${as_daemon[@]}" "$PY" -c "$check") ||
  fail "the daemon processes' user cannot use duoweb (compiled) and mod_wsgi with $PY (see above)"
echo "$source_hash" >"$stamp" # only now: a failed or pure install is redone next time

mkdir -p build
echo "$ENV_DIR" >"$POINTER"
say "ready: $ENV_DIR (mod_wsgi module $module)"
