"""What checking a bearer token costs per request, in CPU instructions (valgrind callgrind).

    .venv/bin/python -m benchmarks.security [--requests 2000]

For each mode (WSGI, ASGI), a route of benchmarks/security_app.py with no parameter and the
same route with ``Depends(HTTPBearer())`` each run the in-process driver's request loop under
callgrind with N requests and with none; (count(N) - count(0)) / N is one request. Two more routes
split the difference: the header read as a handler parameter, and read by a plain provider
(what any ``Depends`` costs), so the scheme's own share is the bearer route minus the
provider route. JWT signature checks are PyJWT's and not in it.
"""

from __future__ import annotations

import argparse

from benchmarks import _common

_LOOP = """
import sys
from dataclasses import replace
from benchmarks.drivers import make_driver
from benchmarks.security_app import app
from benchmarks.spec import BENCH
mode, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
token = (("authorization", "Bearer abc.def-ghi"),)
probe = replace(BENCH["json"], path=path, extra_headers=token)
driver = make_driver(mode, app)
driver.start()
request = driver.prepare(probe)
driver.timed(request, 300)
driver.timed(request, count)
driver.stop()
"""


def count(mode: str, path: str, requests: int) -> int:
    """Instructions of one interpreter sending ``requests`` requests to ``path``."""
    return _common.callgrind_total(_LOOP, [mode, path, str(requests)], _common.repo_env())


def per_request(mode: str, path: str, requests: int) -> float:
    """Instructions of one request to ``path``."""
    return (count(mode, path, requests) - count(mode, path, 0)) / requests


#: (path, what it measures), each compared with the open route.
ROUTES = (
    ("/json-header", "the header as a handler parameter"),
    ("/json-provider", "the header through a plain provider (any Depends)"),
    ("/json-bearer", "Depends(HTTPBearer())"),
)


def main(argv: list[str] | None = None) -> int:
    """Print the per-request instruction counts and the bearer check's cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--modes", default="wsgi,asgi")
    options = parser.parse_args(argv)
    print("| mode | route | instructions per request | over the open route |")
    print("| --- | --- | ---: | ---: |")
    for mode in options.modes.split(","):
        plain = per_request(mode, "/json", options.requests)
        print(f"| {mode} | /json (open) | {plain:,.0f} | |", flush=True)
        for path, what in ROUTES:
            cost = per_request(mode, path, options.requests)
            print(f"| {mode} | {path}: {what} | {cost:,.0f} | {cost - plain:+,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
