"""What the operations features cost per request: instructions with each on, against off.

The reference app (``benchmarks.app``) is counted as it is and with one feature turned on
(``benchmarks.operations_app`` builds each variant), with the in-process benchmark's own
request loop under ``valgrind --tool=callgrind`` (N requests minus none, fresh interpreters,
same hash seed), as ``benchmarks.instructions`` does for the contenders.

    python -m benchmarks.operations --routes plaintext,json,param --requests 1000

Variants: ``metrics`` (``enable_metrics``), ``etag`` (``ETagMiddleware`` app-wide), against
the reference app (``plain``); ``etag-route`` (``etag=True`` on the routes themselves) and
``etag-app`` (``App(etag=True)``), against the same three routes without ETags (``small``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from benchmarks._common import callgrind_total, repo_env

VARIANTS = ("plain", "metrics", "etag", "noop", "small", "etag-route", "etag-app")
#: Variants built on the three-route app: compared with ``small``, the others with ``plain``.
SMALL_VARIANTS = ("small", "etag-route", "etag-app")

_LOOP = """
import os, sys
os.environ["DUOWEB_BENCH_VARIANT"] = sys.argv[1]
from benchmarks import operations_app
from benchmarks.drivers import make_driver
from benchmarks.spec import BENCH
mode = sys.argv[2]
driver = make_driver(mode, operations_app.wsgi if mode == "wsgi" else operations_app.asgi)
driver.start()
request = driver.prepare(BENCH[sys.argv[3]])
driver.timed(request, 300)
driver.timed(request, int(sys.argv[4]))
driver.stop()
"""


def count(variant: str, mode: str, route: str, requests: int) -> int:
    """Instructions the whole interpreter ran for ``requests`` requests of one cell."""
    return callgrind_total(_LOOP, [variant, mode, route, str(requests)], repo_env())


def per_request(variant: str, mode: str, route: str, requests: int) -> float:
    """Instructions per request of one cell: the N-request run minus the empty one."""
    result = (count(variant, mode, route, requests) - count(variant, mode, route, 0)) / requests
    print(f"  {variant:10} {mode:4} {route:10} {result:10.0f} instructions", flush=True)
    return result


def _base(variant: str) -> str:
    """The variant ``variant`` is compared with."""
    return "small" if variant in SMALL_VARIANTS else "plain"


def main(argv: Sequence[str] | None = None) -> int:
    """Count every (variant, mode, route) cell and print the overheads as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", default="plaintext,json,param")
    parser.add_argument("--modes", default="wsgi,asgi")
    parser.add_argument("--variants", default=",".join(VARIANTS[1:]))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    routes = args.routes.split(",")
    modes = args.modes.split(",")
    asked = [v for v in args.variants.split(",") if v not in ("plain", "small")]
    bases = {_base(v) for v in asked} or {"plain"}
    variants = [*sorted(bases), *asked]
    cells = [(v, m, r) for v in variants for m in modes for r in routes]
    with ThreadPoolExecutor(args.jobs) as pool:
        counts = dict(
            zip(cells, pool.map(lambda c: per_request(*c, args.requests), cells), strict=True)
        )
    lines = ["| variant | mode | " + " | ".join(routes) + " |", "|---" * (len(routes) + 2) + "|"]
    for variant in variants:
        for mode in modes:
            row = []
            for route in routes:
                own, base = counts[variant, mode, route], counts[_base(variant), mode, route]
                extra = "" if variant in bases else f" ({(own - base) / base:+.1%})"
                row.append(f"{own / 1000:.1f}k{extra}")
            lines.append(f"| {variant} | {mode} | " + " | ".join(row) + " |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
