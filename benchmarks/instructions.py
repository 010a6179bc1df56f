"""Instruction counts per request: a steady measure for a busy machine.

Timings on a shared machine swing by tens of percent; the number of CPU instructions a
request costs does not. Each cell runs the in-process benchmark's own request loop (the
driver's ``timed``) under ``valgrind --tool=callgrind`` twice, with N requests and with none,
in fresh interpreters with the same hash seed, and reports (count(N) - count(0)) / N. The
loop's own work (copying the environ, the body stream, consuming the answer) is included for
every contender alike, as it is in the timed benchmark.

    python -m benchmarks.instructions --contenders raw-wsgi,duoweb-wsgi,falcon-wsgi
    python -m benchmarks.instructions --routes plaintext,body --requests 2000

Needs valgrind (Debian package ``valgrind``). Fewer instructions is not the same as more
requests per second (cache misses and branch mispredictions are not counted), but for the
small changes of one optimization at a time it moves in the same direction, and it repeats.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks import _common
from benchmarks.contenders import Contender, floor_for, select
from benchmarks.spec import ROUTES

# Runs in the counted interpreter: builds the app, warms it up, then sends N requests.
_LOOP = """
import sys
from benchmarks.contenders import BY_NAME
from benchmarks.drivers import make_driver
from benchmarks.spec import BENCH
contender = BY_NAME[sys.argv[1]]
driver = make_driver(contender.mode, contender.load())
driver.start()
request = driver.prepare(BENCH[sys.argv[2]])
driver.timed(request, 300)
driver.timed(request, int(sys.argv[3]))
driver.stop()
"""


def _count(contender: Contender, route: str, requests: int) -> int:
    """Instructions the whole interpreter ran for ``requests`` requests of one cell."""
    args = [contender.name, route, str(requests)]
    return _common.callgrind_total(_LOOP, args, _common.child_env(contender))


def per_request(contender: Contender, route: str, requests: int) -> float:
    """Instructions per request of one cell: the N-request run minus the empty one."""
    return (_count(contender, route, requests) - _count(contender, route, 0)) / requests


#: The families counted by ``python -m benchmarks.run`` (every cell takes ~20 s of valgrind).
RUN_FAMILIES = ("raw", "duoweb", "duoweb-pure", "falcon", "blacksheep")


def available() -> bool:
    """True when valgrind is installed."""
    return shutil.which("valgrind") is not None


def count_cells(
    contenders: Sequence[Contender],
    routes: Sequence[str],
    requests: int,
    *,
    jobs: int = 2,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Instructions per request of every (contender, route) cell, ``jobs`` valgrinds at a time.

    Instruction counts do not depend on what else the machine runs, so cells may share it.
    """
    cells = [(contender, route) for contender in contenders for route in routes]

    def one(cell: tuple[Contender, str]) -> dict[str, Any]:
        contender, route = cell
        row: dict[str, Any] = {"contender": contender.name, "mode": contender.mode, "route": route}
        try:
            row["instructions"] = per_request(contender, route, requests)
            log(f"  {contender.name:18} {route:10} {row['instructions']:10.0f} instructions")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            row["error"] = str(exc)
            log(f"  {contender.name:18} {route:10} failed: {exc}")
        return row

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, cells))


def format_table(cells: Sequence[dict[str, Any]], routes: Sequence[str]) -> str:
    """A Markdown table: thousands of instructions per request and the fraction of raw's."""
    counts = {(c["contender"], c["route"]): c.get("instructions") for c in cells}
    modes = {c["contender"]: c["mode"] for c in cells}
    lines = ["| contender | " + " | ".join(routes) + " |", "|---" * (len(routes) + 1) + "|"]
    for name, mode in modes.items():
        floor = floor_for(mode).name
        row = []
        for route in routes:
            own = counts.get((name, route))
            base = counts.get((floor, route))
            if not own:
                row.append("failed")
                continue
            ratio = f" ({base / own:.2f} of raw)" if base and name != floor else ""
            row.append(f"{own / 1000:.1f}k{ratio}")
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: count the chosen cells and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contenders", help="comma-separated names (default: every one)")
    parser.add_argument("--routes", help=f"comma-separated, of {','.join(ROUTES)}")
    parser.add_argument("--requests", type=int, default=2000, help="requests per count")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at a time")
    args = parser.parse_args(argv)
    if not available():
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    contenders = select(args.contenders.split(",") if args.contenders else None)
    routes = args.routes.split(",") if args.routes else list(ROUTES)
    cells = count_cells(contenders, routes, args.requests, jobs=args.jobs)
    print(format_table(cells, routes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
