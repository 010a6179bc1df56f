#!/usr/bin/env bash
# Start (or stop) the Redis server the rate-limit end-to-end tests share between Gunicorn
# workers (tests/e2e/test_operations_served.py). scripts/test.sh runs `start` before pytest and
# `stop` after it.
#   start: installs Debian's redis-server when it is missing (apt-get, as root, without
#          starting the system service), then runs one redis-server of this checkout on
#          127.0.0.1 at a free port, without persistence, and writes its URL to
#          build/redis-url, where the tests look for it. A server this checkout already runs
#          is reused.
#   stop:  shuts that server down and removes build/redis-url.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
STATE=build/redis
POINTER=build/redis-url
PIDFILE="$ROOT/$STATE/redis.pid"

say() { echo "provision_redis: $*"; }
fail() {
  echo "provision_redis: error: $*" >&2
  echo "provision_redis: the Redis end-to-end tests will skip (see above)." >&2
  exit 1
}
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

stop() {
  if running; then
    say "stopping redis-server $(cat "$PIDFILE")"
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 50); do running || break; sleep 0.1; done
  fi
  rm -f "$POINTER" "$PIDFILE"
}

start() {
  rm -f "$POINTER"
  if ! command -v redis-server >/dev/null; then
    command -v apt-get >/dev/null || fail "redis-server is missing, and there is no apt-get here"
    [ "$(id -u)" -eq 0 ] || fail "redis-server is missing: run as root, or: sudo apt-get install redis-server"
    say "apt-get install redis-server"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package's maintainer scripts from starting the system service (policy-rc.d, 101).
    local policy=/usr/sbin/policy-rc.d added=""
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\n# added by duoweb scripts/provision_redis.sh while apt-get runs\nexit 101\n' >"$policy"
      chmod 755 "$policy"
      added=$policy
    fi
    timeout 180 apt-get -o DPkg::Lock::Timeout=120 update -qq || say "apt-get update failed; trying the install anyway"
    local code=0
    timeout 600 apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends redis-server >/dev/null || code=$?
    [ -n "$added" ] && rm -f "$added"
    [ "$code" -eq 0 ] || fail "apt-get install redis-server failed (exit code $code)"
  fi
  mkdir -p "$STATE"
  if ! running; then
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$PIDFILE" \
      --dir "$ROOT/$STATE" --save "" --appendonly no --logfile "$ROOT/$STATE/redis.log" ||
      fail "redis-server did not start (see $STATE/redis.log)"
    echo "$port" >"$STATE/port"
  fi
  local port
  port=$(cat "$STATE/port")
  for _ in $(seq 100); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
      echo "redis://127.0.0.1:$port/0" >"$POINTER"
      say "ready: redis://127.0.0.1:$port/0"
      return
    fi
    sleep 0.1
  done
  fail "redis-server on port $port does not answer PING (see $STATE/redis.log)"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) fail "usage: $0 [start|stop]" ;;
esac
