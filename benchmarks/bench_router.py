"""Router lookup benchmark: duoweb compiled and pure against Falcon, Starlette and Werkzeug.

Run from the repository root (build the extension first)::

    .venv/bin/python benchmarks/bench_router.py            # all tables
    .venv/bin/python benchmarks/bench_router.py --quick    # fewer repeats

Three route tables: the reference app (100 ``/api/v1/r{k}/{id:int}`` routes plus /plaintext,
/json, /search, /items), the GitHub REST API set (203 routes, benchmarks/github_routes.py) and a
synthetic 10,000-route table that contains the reference routes. Each contender answers the same
mix of lookups (static and parametrised, hits, 404s and 405s). duoweb's match() includes method
dispatch (405s); Falcon is timed on CompiledRouter.find(path) alone, Starlette on its route scan
and Werkzeug on MapAdapter.match (both with method checks). Samples are short and interleaved
across contenders; ratios are medians of per-repeat ratios against duoweb compiled, which is
robust on a shared, noisy machine. Timing is only reported, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from itertools import starmap
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import github_routes

Route = tuple[str, str, dict[str, str]]  # (method, duoweb template, param kinds)
Lookup = tuple[str, str]  # (method, path)
Runner = Callable[[int], None]

# -- route tables --------------------------------------------------------------------------


def reference_routes() -> list[Route]:
    """The shared reference app's routes."""
    routes: list[Route] = [(m, p, {}) for m, p in _REFERENCE_STATIC]
    routes += [("GET", f"/api/v1/r{k}/{{id:int}}", {"id": "int"}) for k in range(100)]
    return routes


_REFERENCE_STATIC = (
    ("GET", "/plaintext"),
    ("GET", "/json"),
    ("GET", "/search"),
    ("POST", "/items"),
)


def reference_lookups() -> list[Lookup]:
    """Static and parametrised hits, 404s and 405s against the reference routes."""
    return [
        ("GET", "/plaintext"),
        ("GET", "/json"),
        ("GET", "/search"),
        ("POST", "/items"),
        ("GET", "/api/v1/r87/12345"),
        ("GET", "/api/v1/r0/1"),
        ("GET", "/api/v1/r42/987654321"),
        ("GET", "/api/v1/r99/7"),
        ("GET", "/api/v1/r87/abc"),  # 404: not an int
        ("GET", "/api/v1/r100/1"),  # 404
        ("GET", "/nothing/here"),  # 404
        ("DELETE", "/json"),  # 405
        ("POST", "/api/v1/r5/1"),  # 405
    ]


def github_table() -> list[Route]:
    """The GitHub REST API routes as duoweb templates."""
    out: list[Route] = []
    for method, path in github_routes.ROUTES:
        kinds = {
            name: ("int" if name in github_routes.INT_PARAMS else "str")
            for name in github_routes.param_names(path)
        }
        out.append((method, github_routes.to_template(path, "duoweb"), kinds))
    return out


def github_lookups() -> list[Lookup]:
    """Every GitHub route once with sample values (the "GithubAll" mix) plus some misses."""
    lookups = [(m, github_routes.sample_path(p)) for m, p in github_routes.ROUTES]
    lookups += [
        ("GET", "/repos/julienschmidt/httprouter/issues/x"),  # 404: not an int
        ("GET", "/nope"),
        ("GET", "/user/repos/extra/segments"),
        ("PATCH", "/user/keys/42"),  # 405
    ]
    return lookups


def synthetic_table() -> list[Route]:
    """10,000 routes: the reference routes plus 9,896 more of two shapes."""
    routes = reference_routes()
    routes += [("GET", f"/api/v1/r{k}/{{id:int}}", {"id": "int"}) for k in range(100, 5000)]
    k = 0
    while len(routes) < 10_000:
        routes.append(("GET", f"/svc/s{k}/items/{{item}}", {"item": "str"}))
        k += 1
    return routes


# -- contenders ----------------------------------------------------------------------------


def _group(routes: Sequence[Route]) -> dict[str, tuple[list[str], dict[str, str]]]:
    grouped: dict[str, tuple[list[str], dict[str, str]]] = {}
    for method, template, kinds in routes:
        grouped.setdefault(template, ([], kinds))[0].append(method)
    return grouped


def _loop(call: Callable[[str, str], Any], lookups: Sequence[Lookup]) -> Runner:
    """A runner doing ``n`` rounds of ``call(method, path)``; the loop itself runs in C
    (starmap drained by a zero-length deque) so the harness adds little to any contender."""
    pairs = list(lookups)

    def run(n: int) -> None:
        for _ in range(n):
            deque(starmap(call, pairs), maxlen=0)

    return run


def duoweb_runner(kind: str, routes: Sequence[Route], lookups: Sequence[Lookup]) -> Runner:
    """duoweb's Router.match, compiled or pure."""
    name = "duoweb._speedups._router" if kind == "compiled" else "duoweb._router_py"
    router = importlib.import_module(name).Router()
    for method, template, kinds in routes:
        router.add(template, [method], f"{method} {template}", kinds)
    router.compile()
    return _loop(router.match, lookups)


def falcon_runner(routes: Sequence[Route], lookups: Sequence[Lookup]) -> Runner:
    """Falcon's CompiledRouter.find(path) alone (duoweb's numbers include method dispatch)."""
    from falcon.routing import CompiledRouter

    router = CompiledRouter()
    for template, (methods, _kinds) in _group(routes).items():
        attrs = {f"on_{m.lower()}": (lambda self, req, resp, **kw: None) for m in methods}
        resource = type("Resource", (), attrs)()
        router.add_route(template, resource)
    find = router.find
    find("/")  # force compilation outside the timed loop
    paths = [path for _method, path in lookups]

    def run(n: int) -> None:
        for _ in range(n):
            deque(map(find, paths), maxlen=0)

    return run


def starlette_runner(routes: Sequence[Route], lookups: Sequence[Lookup]) -> Runner:
    """Starlette's Router matching: each Route.matches(scope) in order, as Router.app does."""
    from starlette.routing import Match, Route

    def endpoint(request: Any) -> None:
        return None

    table = [
        Route(template, endpoint, methods=methods)
        for template, (methods, _kinds) in _group(routes).items()
    ]
    full, partial_kind = Match.FULL, Match.PARTIAL

    def call(method: str, path: str) -> Any:
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        partial = None
        for route in table:
            match, child = route.matches(scope)
            if match is full:
                return route, child
            if match is partial_kind and partial is None:
                partial = route
        return partial

    return _loop(call, lookups)


def werkzeug_runner(routes: Sequence[Route], lookups: Sequence[Lookup]) -> Runner:
    """Werkzeug's Map.bind(...).match (bound once), misses caught as HTTPException."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import Map, Rule

    rules = []
    for template, (methods, _kinds) in _group(routes).items():
        path = template.replace("{", "<").replace("}", ">")
        path = "/".join(
            f"<int:{piece[1:-5]}>" if piece.endswith(":int>") else piece
            for piece in path.split("/")
        )
        rules.append(Rule(path, endpoint=template, methods=methods))
    adapter = Map(rules, strict_slashes=False, merge_slashes=False).bind("localhost")
    match = adapter.match

    def call(method: str, path: str) -> Any:
        try:
            return match(path, method)
        except HTTPException as exc:
            return exc

    return _loop(call, lookups)


# -- timing --------------------------------------------------------------------------------


def calibrate(run: Runner, budget_ns: int) -> int:
    """How many rounds of ``run`` take about ``budget_ns``."""
    run(1)
    n = 1
    while True:
        start = time.perf_counter_ns()
        run(n)
        took = time.perf_counter_ns() - start
        if took >= budget_ns // 4 or n >= 1 << 20:
            break
        n *= 2
    return max(1, int(n * budget_ns / max(took, 1)))


def measure_all(
    jobs: dict[tuple[str, str], tuple[Runner, int]], repeats: int, budget_ns: int
) -> dict[tuple[str, str], list[float]]:
    """ns per lookup of every job, one sample per repeat.

    Repeats are interleaved across jobs (each sample is short), so that a burst of load on a
    shared machine hits neighbouring samples alike; ratios are then taken per repeat.
    """
    sizes = {key: calibrate(run, budget_ns) for key, (run, _per_round) in jobs.items()}
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in jobs}
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for key, (run, per_round) in jobs.items():
                n = sizes[key]
                start = time.perf_counter_ns()
                run(n)
                samples[key].append((time.perf_counter_ns() - start) / (n * per_round))
    finally:
        gc.enable()
    return samples


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median over repeats of numerator/denominator taken within the same repeat."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


def contenders(
    routes: Sequence[Route], lookups: Sequence[Lookup], slow_ok: bool
) -> dict[str, Runner]:
    """Every available contender for one table; the linear-scan ones only when slow_ok."""
    out: dict[str, Runner] = {}
    try:
        out["duoweb compiled"] = duoweb_runner("compiled", routes, lookups)
    except ImportError as exc:
        print(f"(duoweb compiled unavailable: {exc})", file=sys.stderr)
    out["duoweb pure"] = duoweb_runner("pure", routes, lookups)
    for name, factory in (
        ("Falcon CompiledRouter", falcon_runner),
        ("Werkzeug Map.match", werkzeug_runner),
        ("Starlette Router", starlette_runner),
    ):
        if name.startswith("Starlette") and not slow_ok:
            continue
        try:
            out[name] = factory(routes, lookups)
        except ImportError as exc:
            print(f"({name} unavailable: {exc})", file=sys.stderr)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Time every contender on every table and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--no-starlette", action="store_true", help="skip Starlette (slow on 10,000 routes)"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 21)
    budget = (10 if args.quick else 20) * 1_000_000

    tables = [
        ("reference app (104 routes)", reference_routes(), reference_lookups()),
        ("GitHub API (203 routes)", github_table(), github_lookups()),
        ("synthetic (10,000 routes)", synthetic_table(), reference_lookups()),
    ]
    jobs: dict[tuple[str, str], tuple[Runner, int]] = {}
    sizes: dict[str, int] = {}
    for title, routes, lookups in tables:
        sizes[title] = len(lookups)
        for name, run in contenders(routes, lookups, slow_ok=not args.no_starlette).items():
            jobs[(title, name)] = (run, len(lookups))
    measured = measure_all(jobs, repeats, budget)
    results: dict[str, dict[str, list[float]]] = {}
    for (title, name), samples in measured.items():
        results.setdefault(title, {})[name] = samples
    print(f"Python {sys.version.split()[0]}, {repeats} interleaved repeats. ns/lookup: best and")
    print("median; ratio: median over repeats of (contender / duoweb compiled) in that repeat.")
    for title, row in results.items():
        base = row.get("duoweb compiled", row["duoweb pure"])
        print()
        print(f"### {title}: {sizes[title]} lookups per round")
        print()
        print("| router | best ns/lookup | median ns/lookup | x duoweb compiled |")
        print("|---|---:|---:|---:|")
        for name, samples in row.items():
            print(
                f"| {name} | {min(samples):,.0f} | {statistics.median(samples):,.0f} "
                f"| {paired_ratio(samples, base):.2f} |"
            )
    print()
    print("### Targets")
    print()
    gh = results["GitHub API (203 routes)"]
    ref = results["reference app (104 routes)"]
    syn = results["synthetic (10,000 routes)"]
    falcon = "Falcon CompiledRouter"
    if "duoweb compiled" in gh and falcon in gh:
        speedup = paired_ratio(gh[falcon], gh["duoweb compiled"])
        print(f"- compiled vs Falcon on GitHub: {speedup:.1f}x faster (target >= 5x)")
    if falcon in gh:
        ratio = paired_ratio(gh[falcon], gh["duoweb pure"])
        print(f"- pure vs Falcon on GitHub: {ratio:.2f}x as fast (target >= 1x)")
    if "duoweb compiled" in syn:
        growth = paired_ratio(syn["duoweb compiled"], ref["duoweb compiled"])
        print(f"- compiled 10,000 vs 104 routes, same lookups: {growth:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
