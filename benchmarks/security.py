"""What checking a bearer token costs per request, in CPU instructions (valgrind callgrind).

    .venv/bin/python -m benchmarks.security [--requests 2000]

For each mode (WSGI, ASGI), a route of benchmarks/security_app.py with no parameter and the
same route with each security scheme run the in-process driver's request loop under
callgrind with N requests and with none; (count(N) - count(0)) / N is one request. Each route is
compared with the open route sent the same request headers and query. Two more routes split
the bearer's cost: the header read as a handler parameter, and read by a plain provider
(what any ``Depends`` costs). JWT signature checks are PyJWT's and not in it.
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
mode, path, query, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
headers = tuple(tuple(field.split(": ", 1)) for field in sys.argv[5:])
probe = replace(BENCH["json"], path=path, query=query, extra_headers=headers)
driver = make_driver(mode, app)
driver.start()
request = driver.prepare(probe)
driver.timed(request, 300)
driver.timed(request, count)
driver.stop()
"""


#: What a request carries: (query string, header fields).
Credentials = tuple[str, tuple[str, ...]]

BEARER: Credentials = ("", ("authorization: Bearer abc.def-ghi",))


def count(mode: str, path: str, sent: Credentials, requests: int) -> int:
    """Instructions of one interpreter sending ``requests`` requests to ``path``."""
    query, headers = sent
    args = [mode, path, query, str(requests), *headers]
    return _common.callgrind_total(_LOOP, args, _common.repo_env())


def per_request(mode: str, path: str, sent: Credentials, requests: int) -> float:
    """Instructions of one request to ``path``."""
    return (count(mode, path, sent, requests) - count(mode, path, sent, 0)) / requests


#: (path, what it measures, what the request carries), each compared with the open route
#: sent the same.
ROUTES: tuple[tuple[str, str, Credentials], ...] = (
    ("/json-header", "the header as a handler parameter", BEARER),
    ("/json-provider", "the header through a plain provider (any Depends)", BEARER),
    ("/json-bearer", "Depends(HTTPBearer())", BEARER),
    ("/json-bearer-guard", "dependencies=[Depends(HTTPBearer())]", BEARER),
    ("/json-oauth2", "Depends(OAuth2PasswordBearer(...))", BEARER),
    ("/json-basic", "Depends(HTTPBasic())", ("", ("authorization: Basic dXNlcjpwYXNz",))),
    ("/json-key-header", "Depends(APIKeyHeader(...))", ("", ("x-api-key: k3y",))),
    ("/json-key-query", "Depends(APIKeyQuery(...))", ("api_key=k3y", ())),
    ("/json-key-cookie", "Depends(APIKeyCookie(...))", ("", ("cookie: session=k3y",))),
    (
        "/json-key-and-bearer",
        "route dependency APIKeyHeader + Depends(HTTPBearer())",
        ("", ("x-api-key: k3y", "authorization: Bearer abc.def-ghi")),
    ),
)


def main(argv: list[str] | None = None) -> int:
    """Print the per-request instruction counts and the bearer check's cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--modes", default="wsgi,asgi")
    parser.add_argument("--routes", default="", help="comma-separated paths (default: all)")
    options = parser.parse_args(argv)
    chosen = set(filter(None, options.routes.split(",")))
    print("| mode | route | instructions per request | over the open route |")
    print("| --- | --- | ---: | ---: |")
    for mode in options.modes.split(","):
        open_costs: dict[Credentials, float] = {}
        for path, what, sent in ROUTES:
            if chosen and path not in chosen:
                continue
            if sent not in open_costs:
                open_costs[sent] = plain = per_request(mode, "/json", sent, options.requests)
                row = f"| {mode} | /json (open), sent {_shown(sent)} | {plain:,.0f} | |"
                print(row, flush=True)
            cost = per_request(mode, path, sent, options.requests)
            extra = cost - open_costs[sent]
            print(f"| {mode} | {path}: {what} | {cost:,.0f} | {extra:+,.0f} |", flush=True)
    return 0


def _shown(sent: Credentials) -> str:
    """What a request carries, for the table (the credentials are the benchmark's own)."""
    query, headers = sent
    parts = [f"?{query}"] if query else []
    return " + ".join(parts + [field.split(":", 1)[0] for field in headers])


if __name__ == "__main__":
    raise SystemExit(main())
