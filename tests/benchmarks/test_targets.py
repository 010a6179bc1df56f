"""The targets section: ratios in the right direction, the faster reference, the ceiling."""

from __future__ import annotations

from typing import Any

from benchmarks import targets
from tests.benchmarks.documents import page

ROUTES = ["plaintext", "json"]


def inprocess(contender: str, mode: str, **medians: float) -> list[dict[str, Any]]:
    """In-process cells with the given median rate per route."""
    return [
        {"contender": contender, "mode": mode, "route": r, "median": m} for r, m in medians.items()
    ]


def counted(contender: str, **counts: float) -> list[dict[str, Any]]:
    """Instruction cells with the given count per route."""
    return [{"contender": contender, "route": r, "instructions": n} for r, n in counts.items()]


def results() -> dict[str, Any]:
    """A small results document: WSGI and ASGI in-process, instructions, one served server."""
    return {
        "inprocess": [
            *inprocess("raw-wsgi", "wsgi", plaintext=800.0, json=600.0),
            *inprocess("duoweb-wsgi", "wsgi", plaintext=330.0, json=250.0),
            *inprocess("falcon-wsgi", "wsgi", plaintext=100.0, json=100.0),
            *inprocess("duoweb-asgi", "asgi", plaintext=150.0, json=90.0),
            *inprocess("blacksheep", "asgi", plaintext=100.0, json=40.0),
            *inprocess("falcon-asgi", "asgi", plaintext=60.0, json=50.0),
        ],
        "instructions": [
            *counted("duoweb-wsgi", plaintext=10_000.0, json=20_000.0),
            *counted("falcon-wsgi", plaintext=29_000.0, json=80_000.0),
            *counted("duoweb-asgi", plaintext=25_000.0),
            *counted("blacksheep", plaintext=40_000.0),
            *counted("falcon-asgi", plaintext=90_000.0),
        ],
        "served": [
            {"server": "gunicorn", "contender": "raw-wsgi", "route": "json", "median": 100.0},
            {"server": "gunicorn", "contender": "duoweb-wsgi", "route": "json", "median": 96.0},
            {"server": "uvicorn", "contender": "raw-asgi", "route": "json", "median": 1.0},
        ],
    }


def find(target_title: str) -> targets.Target:
    """The target with this title."""
    return next(t for t in targets.TARGETS if t.title == target_title)


def test_rates_divide_duoweb_by_the_faster_reference() -> None:
    asgi = find("ASGI: duoweb ≥ 2x the faster of BlackSheep and Falcon")
    ratio = targets.ratio(asgi, asgi.contender, "plaintext", "rates", results())
    assert ratio == 1.5  # 150 over BlackSheep's 100, not Falcon's 60
    assert targets.ratio(asgi, asgi.contender, "json", "rates", results()) == 1.8  # 90 / 50


def test_instructions_divide_the_reference_count_by_duoweb_s() -> None:
    wsgi = find("WSGI: duoweb ≥ 3x Falcon")
    assert targets.ratio(wsgi, wsgi.contender, "plaintext", "instructions", results()) == 2.9
    assert targets.ratio(wsgi, wsgi.contender, "json", "instructions", results()) == 4.0
    asgi = find("ASGI: duoweb ≥ 2x the faster of BlackSheep and Falcon")
    # The faster peer needs fewer instructions: BlackSheep's 40k, not Falcon's 90k.
    assert targets.ratio(asgi, asgi.contender, "plaintext", "instructions", results()) == 1.6


def test_served_targets_read_only_their_server() -> None:
    gunicorn = find("gunicorn: duoweb ≥ 0.95x raw")
    assert targets.ratio(gunicorn, gunicorn.contender, "json", "rates", results()) == 0.96
    assert targets.ratio(gunicorn, gunicorn.contender, "plaintext", "rates", results()) is None
    uvicorn = find("uvicorn: duoweb ≥ 0.8x raw")
    assert targets.ratio(uvicorn, uvicorn.contender, "json", "rates", results()) is None


def test_the_section_marks_each_route_and_shows_the_ceiling() -> None:
    lines = [line for line in targets.section(results(), ROUTES) if line.startswith("| ")]
    rows = {" | ".join(line.split(" | ")[:2]): line for line in lines}
    assert rows["| WSGI: duoweb ≥ 3x Falcon | rates"].endswith("| 3.30 ✓ | 2.50 ✗ |")
    assert rows["| WSGI: duoweb ≥ 3x Falcon | instructions"].endswith("| 2.90 ✗ | 4.00 ✓ |")
    assert rows["| ↳ raw-wsgi, the ceiling | rates"].endswith("| 8.00 | 6.00 |")
    assert rows["| gunicorn: duoweb ≥ 0.95x raw | rates"].endswith("| - | 0.96 ✓ |")
    # Nothing measured for these: no row at all.
    assert not any("uvicorn" in line or "pure" in line for line in lines)


def test_startup_and_memory_against_falcon() -> None:
    startup = {
        "rows": [
            {"contender": "duoweb-wsgi", "build_cpu_ms": 80.0, "rss_mib": 6.0},
            {"contender": "falcon-wsgi", "build_cpu_ms": 150.0, "rss_mib": 5.0},
        ]
    }
    (line,) = [x for x in targets.section({"startup": startup}, ROUTES) if "Startup" in x]
    assert "0.53x, target ≤ 0.5x ✗" in line
    assert "memory +6.0 MiB vs Falcon's +5.0 ✗" in line


def test_no_measurements_no_section_and_the_page_places_it() -> None:
    assert targets.section({}, ROUTES) == []
    cells = [
        {"server": "gunicorn", "contender": name, "mode": "wsgi", "route": route, "instructions": n}
        for name, n in (("raw-wsgi", 500_000.0), ("duoweb-wsgi", 510_000.0))
        for route in ROUTES
    ]
    text = page(**{"served-instructions": cells})
    assert text.index("## Targets") < text.index("## How to read the tables")
    assert "| gunicorn: duoweb ≥ 0.95x raw | instructions | 0.98 ✓ | 0.98 ✓ |" in text
