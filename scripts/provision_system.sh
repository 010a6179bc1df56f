#!/usr/bin/env bash
# Install the system programs some tests drive: nginx and openssl (tests/deploy/test_nginx.py)
# and Chromium (tests/browser). scripts/test.sh runs it before pytest; tests never install.
# Debian or Ubuntu, as root, non-interactively, without starting the nginx service. Programs
# already there are not touched, so a second run takes well under a second. Without root or
# apt-get it says what is missing and exits 1; the tests then skip, saying why.
set -euo pipefail
have() { PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" command -v "$1" >/dev/null; }
missing=()
have nginx || missing+=(nginx)
have openssl || missing+=(openssl)
have chromium || have chromium-browser || have google-chrome || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
say() { echo "provision_system: $*" >&2; }
if ! command -v apt-get >/dev/null || [ "$(id -u)" -ne 0 ]; then
  say "missing ${missing[*]}: install them (as root: apt-get install ${missing[*]}); their tests skip until then"
  exit 1
fi
say "apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a
# Keep the packages' maintainer scripts from starting nginx on port 80 (policy-rc.d, 101).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# added by duoweb scripts/provision_system.sh while apt-get runs\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
# A failed update is not fatal: the package lists may already be good enough.
timeout 180 apt-get -o DPkg::Lock::Timeout=120 update -qq || say "apt-get update failed; trying the install anyway"
apt_install() { timeout 600 apt-get -o DPkg::Lock::Timeout=120 install -y -qq "$@" >/dev/null; }
daemons=()
for package in "${missing[@]}"; do [ "$package" = chromium ] || daemons+=("$package"); done
[ ${#daemons[@]} -eq 0 ] || apt_install --no-install-recommends "${daemons[@]}"
# Chromium with its recommended packages (fonts), as a desktop install has it.
[ "${missing[*]}" = "${daemons[*]}" ] || apt_install chromium
