"""Routers cost nothing per request: instructions of one route nested vs declared directly.

    .venv/bin/python -m benchmarks.routers [--requests 2000]

The route ``GET /api/v1/users/{user_id}`` with one header-checking dependency, reached
through three nested routers (the dependency on the innermost) and registered on the App
with ``dependencies=[...]`` (benchmarks/contenders/routers_apps.py), both modes, compiled
speedups. Each cell runs the in-process driver's request loop under callgrind with N
requests and with none (fresh interpreters, same hash seed) and reports the difference per
request, as benchmarks/instructions.py does. Needs valgrind.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from benchmarks import _common
from benchmarks.contenders.routers_apps import ROUTER_CONTENDERS
from benchmarks.spec import Probe

PROBE = Probe("GET", "/api/v1/users/12345", extra_headers=(("x-key", "secret"),))

# Runs in the counted interpreter: builds the app, checks and warms it, then sends N requests.
_LOOP = """
import sys
from benchmarks.contenders.routers_apps import ROUTER_CONTENDERS, load
from benchmarks.drivers import make_driver
from benchmarks.routers import PROBE
mode, _ = ROUTER_CONTENDERS[sys.argv[1]]
driver = make_driver(mode, load(sys.argv[1]))
driver.start()
request = driver.prepare(PROBE)
status, _, body = driver.call_once(request)
assert status == 200 and body == b'{"id":12345}', (status, body)
driver.timed(request, 300)
driver.timed(request, int(sys.argv[2]))
driver.stop()
"""


def _count(name: str, requests: int) -> int:
    return _common.callgrind_total(_LOOP, [name, str(requests)], _common.repo_env())


def per_request(name: str, requests: int) -> float:
    """Instructions per request of one contender: the N-request run minus the empty one."""
    return (_count(name, requests) - _count(name, 0)) / requests


def main(argv: Sequence[str] | None = None) -> int:
    """Count every contender and print the table (nested over direct, per mode)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    names = list(ROUTER_CONTENDERS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(
            zip(names, pool.map(lambda n: per_request(n, args.requests), names), strict=True)
        )
    print("| mode | direct (instr/req) | 3 nested routers (instr/req) | nested / direct |")
    print("|---|---:|---:|---:|")
    for mode in ("wsgi", "asgi"):
        direct, nested = counts[f"direct-{mode}"], counts[f"nested-{mode}"]
        print(f"| {mode} | {direct:.0f} | {nested:.0f} | {nested / direct:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
