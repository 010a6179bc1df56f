"""The speed targets duoweb is held to, judged from one results document.

Each target is a ratio duoweb must reach on every route: to a peer (the faster of several,
where the target says so) or to the raw callable. It is judged by request rates (the measure
the target is stated in) and, where the run counted them, by instructions per request (which
do not move with the machine's load). For a target against peers, the raw callable's own
ratio is shown too: hand dispatch with no framework is the ceiling any framework can reach,
so a target above it cannot be met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """``contender`` at least ``minimum`` times the best of ``references`` on every route."""

    title: str
    contender: str
    references: tuple[str, ...]
    minimum: float
    #: None: in-process; else the server both run under (references are then the raw callable).
    server: str | None = None
    #: The raw callable of the same mode, whose own ratio is the ceiling (peer targets only).
    ceiling: str | None = None


TARGETS: tuple[Target, ...] = (
    Target("WSGI: duoweb ≥ 3x Falcon", "duoweb-wsgi", ("falcon-wsgi",), 3.0, ceiling="raw-wsgi"),
    Target(
        "ASGI: duoweb ≥ 2x the faster of BlackSheep and Falcon",
        "duoweb-asgi",
        ("blacksheep", "falcon-asgi"),
        2.0,
        ceiling="raw-asgi",
    ),
    Target("WSGI: duoweb ≥ 0.33x raw", "duoweb-wsgi", ("raw-wsgi",), 0.33),
    Target("ASGI: duoweb ≥ 0.33x raw", "duoweb-asgi", ("raw-asgi",), 0.33),
    Target("WSGI: duoweb pure ≥ 1.2x Falcon", "duoweb-pure-wsgi", ("falcon-wsgi",), 1.2),
    Target("ASGI: duoweb pure ≥ 1.2x BlackSheep", "duoweb-pure-asgi", ("blacksheep",), 1.2),
    Target("gunicorn: duoweb ≥ 0.95x raw", "duoweb-wsgi", ("raw-wsgi",), 0.95, "gunicorn"),
    Target("hypercorn: duoweb ≥ 0.95x raw", "duoweb-asgi", ("raw-asgi",), 0.95, "hypercorn"),
    Target("uvicorn: duoweb ≥ 0.8x raw", "duoweb-asgi", ("raw-asgi",), 0.8, "uvicorn"),
)


def _rates(results: dict[str, Any], server: str | None) -> dict[tuple[str, str], float]:
    """(contender, route) -> median rate, in-process or under ``server``; higher is better."""
    if server is None:
        cells = results.get("inprocess", [])
    else:
        cells = [c for c in results.get("served", []) if c["server"] == server]
    return {(c["contender"], c["route"]): c["median"] for c in cells if "median" in c}


def _costs(results: dict[str, Any], server: str | None) -> dict[tuple[str, str], float]:
    """(contender, route) -> instructions per request; fewer is better."""
    if server is None:
        cells = results.get("instructions", [])
    else:
        cells = [c for c in results.get("served-instructions", []) if c["server"] == server]
    return {(c["contender"], c["route"]): c["instructions"] for c in cells if c.get("instructions")}


def ratio(
    target: Target, contender: str, route: str, measure: str, results: dict[str, Any]
) -> float | None:
    """``contender``'s ratio to the best reference on ``route`` by "rates" or "instructions"."""
    if measure == "rates":
        rates = _rates(results, target.server)
        own = rates.get((contender, route))
        best = max(
            (rates[(r, route)] for r in target.references if (r, route) in rates), default=None
        )
        return None if own is None or best is None else own / best
    costs = _costs(results, target.server)
    own = costs.get((contender, route))
    best = min((costs[(r, route)] for r in target.references if (r, route) in costs), default=None)
    return None if own is None or best is None else best / own


def _cell(value: float | None, minimum: float | None) -> str:
    if value is None:
        return "-"
    if minimum is None:
        return f"{value:.2f}"
    return f"{value:.2f} {'✓' if value >= minimum else '✗'}"


def section(results: dict[str, Any], routes: Sequence[str]) -> list[str]:
    """The page's "Targets" section: one row per target and measure, ✓ where met."""
    rows: list[str] = []
    for target in TARGETS:
        for measure in ("rates", "instructions"):
            values = [ratio(target, target.contender, r, measure, results) for r in routes]
            if all(v is None for v in values):
                continue
            cells = [_cell(v, target.minimum) for v in values]
            rows.append(f"| {target.title} | {measure} | " + " | ".join(cells) + " |")
            if target.ceiling is None:
                continue
            ceiling = [ratio(target, target.ceiling, r, measure, results) for r in routes]
            if any(v is not None for v in ceiling):
                cells = [_cell(v, None) for v in ceiling]
                rows.append(
                    f"| ↳ {target.ceiling}, the ceiling | {measure} | " + " | ".join(cells) + " |"
                )
    startup = _startup_lines(results.get("startup"))
    if not rows and not startup:
        return []
    table = [
        "| target | by | " + " | ".join(routes) + " |",
        "|---|---|" + "---:|" * len(routes),
        *rows,
        "",
    ]
    return [
        "## Targets",
        "",
        "The ratios duoweb is held to, from this run: each row is duoweb's ratio on every route",
        "to the named reference (the faster one where there are two), by request rates and, where",
        "counted, by instructions per request (the reference's count over duoweb's). ✓ marks a",
        "route where the target is met. Under a peer target, the raw callable's own ratio is the",
        "ceiling: hand dispatch with no framework, which no framework can beat by much.",
        "",
        *(table if rows else []),
        *startup,
    ]


def _startup_lines(startup: dict[str, Any] | None) -> list[str]:
    """Startup at most half of Falcon's, memory over a bare interpreter at most Falcon's."""
    if not startup:
        return []
    rows = {r["contender"]: r for r in startup["rows"] if "error" not in r}
    out = []
    for mode in ("wsgi", "asgi"):
        own, peer = rows.get(f"duoweb-{mode}"), rows.get(f"falcon-{mode}")
        if own is None or peer is None:
            continue
        cpu = own["build_cpu_ms"] / peer["build_cpu_ms"]
        out.append(
            f"- Startup, {mode.upper()}: duoweb builds in {own['build_cpu_ms']:.0f} ms of CPU,"
            f" Falcon in {peer['build_cpu_ms']:.0f}: {cpu:.2f}x, target ≤ 0.5x"
            f" {'✓' if cpu <= 0.5 else '✗'}; memory +{own['rss_mib']:.1f} MiB vs Falcon's"
            f" +{peer['rss_mib']:.1f} {'✓' if own['rss_mib'] <= peer['rss_mib'] else '✗'}."
        )
    return [*out, ""] if out else []
