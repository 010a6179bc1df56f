"""In-process benchmark: call each app's WSGI/ASGI callable directly, no server, no sockets.

Each (contender, route) cell runs in a fresh interpreter pinned to one CPU: it builds the app,
checks one response against the contract, warms up, sizes a batch to the target duration,
then times several batches. Reported: the median rate (requests/s), the spread of the
batches, and the ratio to the raw callable of the same mode on the same route.

    python -m benchmarks.inprocess --quick --contenders falcon,flask --routes json,body
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks import _common
from benchmarks.contenders import BY_NAME, Contender, floor_for, select
from benchmarks.spec import BENCH, ROUTES, verify

MODULE = "benchmarks.inprocess"


def _speedups() -> dict[str, str] | None:
    """How duoweb's hot path is built in this process, when duoweb is loaded."""
    if "duoweb" not in sys.modules:
        return None
    from duoweb import _select

    return _select.speedups_report()


def _child(payload: dict[str, Any]) -> dict[str, Any]:
    """Time one cell in this (fresh) process and return its result."""
    from benchmarks.drivers import make_driver

    contender = BY_NAME[payload["contender"]]
    probe = BENCH[payload["route"]]
    _common.pin(payload["cpu"])
    app = contender.load()
    driver = make_driver(contender.mode, app)
    driver.start()
    try:
        request = driver.prepare(probe)
        status, headers, body = driver.call_once(request)
        problem = verify(probe, status, headers, body)
        if problem is not None:
            return {"error": f"wrong answer: {problem}", "speedups": _speedups()}
        timed: Timed = lambda n: driver.timed(request, n)  # noqa: E731
        result = _measure(timed, payload["batches"], payload["batch_seconds"])
    finally:
        driver.stop()
    return {**result, "speedups": _speedups()}


Timed = Callable[[int], tuple[float, float]]


def _measure(timed: Timed, batches: int, batch_seconds: float) -> dict[str, list[float]]:
    """Warm up, size a batch to ``batch_seconds`` of CPU, and return per-batch rates.

    Rates are per second of wall time and per second of this process's CPU time; on a
    machine shared with other work the latter is far steadier, and it is what is reported.
    """
    n = 8
    while True:  # warm-up doubles as calibration
        _wall, cpu = timed(n)
        if cpu >= min(0.1, batch_seconds / 2):
            break
        n *= 2
    per_batch = max(1, int(n * batch_seconds / cpu))
    wall_rates: list[float] = []
    cpu_rates: list[float] = []
    for _ in range(batches):
        gc.collect()
        wall, cpu = timed(per_batch)
        wall_rates.append(per_batch / wall)
        cpu_rates.append(per_batch / max(cpu, 1e-9))
    return {"wall_rates": wall_rates, "cpu_rates": cpu_rates}


def run(
    contenders: Sequence[Contender],
    routes: Sequence[str],
    *,
    batches: int = 7,
    batch_seconds: float = 1.0,
    cpu: int | None = None,
    clock: str = "cpu",
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Time every (contender, route) cell, each in a fresh process; add ratios to the floor.

    ``clock`` ("cpu" or "wall") picks which per-batch rates the medians and ratios use.
    """
    app_cpu = _common.pick_cpus()[0] if cpu is None else cpu
    cells: list[dict[str, Any]] = []
    for contender in contenders:
        for route in routes:
            payload = {
                "contender": contender.name,
                "route": route,
                "cpu": app_cpu,
                "batches": batches,
                "batch_seconds": batch_seconds,
            }
            timeout = 60 + batches * batch_seconds * 3
            result = _common.run_child(MODULE, payload, contender, timeout)
            cell: dict[str, Any] = {"contender": contender.name, "mode": contender.mode}
            cell["route"] = route
            cell["speedups"] = result.get("speedups")
            if f"{clock}_rates" in result:
                cell["rates"] = result[f"{clock}_rates"]
                cell.update(_common.summarize(cell["rates"]))
                cell["wall_rates"] = result["wall_rates"]
                cell["cpu_rates"] = result["cpu_rates"]
                log(
                    f"  {contender.name:<18} {route:<10} {cell['median']:>10,.0f} req/s"
                    f"  spread {cell['spread']:5.1%}"
                )
            else:
                cell["error"] = result.get("error", "no result")
                log(f"  {contender.name:<18} {route:<10} FAILED: {cell['error']}")
            cells.append(cell)
    add_ratios(cells)
    return cells


def add_ratios(cells: list[dict[str, Any]], key: tuple[str, ...] = ()) -> None:
    """Set each cell's ``ratio``: its median over the floor's median, same mode/route/key."""

    def ident(cell: dict[str, Any], name: str) -> tuple[Any, ...]:
        return (name, cell["route"], *(cell.get(k) for k in key))

    medians = {ident(c, c["contender"]): c.get("median") for c in cells}
    for cell in cells:
        floor = medians.get(ident(cell, floor_for(cell["mode"]).name))
        mine = cell.get("median")
        cell["ratio"] = mine / floor if mine and floor else None


def format_table(cells: Sequence[dict[str, Any]], routes: Sequence[str]) -> str:
    """A plain-text table: one row per contender, ``rate (ratio)`` per route."""
    names = list(dict.fromkeys(c["contender"] for c in cells))
    by_key = {(c["contender"], c["route"]): c for c in cells}
    head = f"{'contender':<18}" + "".join(f"{r:>22}" for r in routes)
    lines = [head, "-" * len(head)]
    for name in names:
        row = f"{name:<18}"
        for route in routes:
            cell = by_key.get((name, route))
            if cell is None:
                text = "-"
            elif "error" in cell:
                text = "error"
            else:
                ratio = cell.get("ratio")
                text = f"{cell['median']:,.0f} ({ratio:.2f})" if ratio else f"{cell['median']:,.0f}"
            row += f"{text:>22}"
        lines.append(row)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the in-process benchmark alone and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--contenders", default="", help="comma-separated names or families")
    parser.add_argument("--routes", default="", help=f"comma-separated, of {','.join(ROUTES)}")
    parser.add_argument("--quick", action="store_true", help="3 short batches per cell")
    parser.add_argument("--batches", type=int)
    parser.add_argument("--batch-seconds", type=float)
    parser.add_argument("--cpu", type=int, help="CPU to pin the apps to")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="rate per ...")
    args = parser.parse_args(argv)
    if args.child:
        _common.emit(_child(json.loads(args.child)))
        return 0
    routes = [r for r in args.routes.split(",") if r] or list(ROUTES)
    contenders = select(args.contenders.split(","))
    batches = args.batches or (3 if args.quick else 7)
    seconds = args.batch_seconds or (0.2 if args.quick else 1.0)
    started = time.perf_counter()
    cells = run(
        contenders, routes, batches=batches, batch_seconds=seconds, cpu=args.cpu, clock=args.clock
    )
    print(format_table(cells, routes))
    print(f"({time.perf_counter() - started:.0f}s; rate in req/s, ratio to raw of the same mode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
