"""The instruction counter measures a request loop, not the interpreter's start-up."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.contenders import BY_NAME
from benchmarks.instructions import main, per_request

needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="valgrind is not installed (it is a dev tool)"
)


@needs_valgrind
def test_a_framework_costs_more_per_request_than_the_raw_callable() -> None:
    raw = per_request(BY_NAME["raw-wsgi"], "plaintext", 200)
    duoweb = per_request(BY_NAME["duoweb-wsgi"], "plaintext", 200)
    # a request is thousands of instructions, not the millions an interpreter start costs
    assert 1_000 < raw < duoweb < 200_000


@needs_valgrind
def test_the_command_prints_a_table_with_ratios_to_raw(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--contenders", "raw-wsgi,duoweb-wsgi", "--routes", "json", "--requests", "100"]) == 0
    )
    table = capsys.readouterr().out
    assert "| contender | json |" in table
    assert "| duoweb-wsgi | " in table
    assert " of raw)" in table


def test_the_page_divides_the_peers_counts_by_duoweb_s() -> None:
    from benchmarks.report import _instructions_section

    cells = [
        {"contender": "raw-wsgi", "mode": "wsgi", "route": "json", "instructions": 10_000.0},
        {"contender": "duoweb-wsgi", "mode": "wsgi", "route": "json", "instructions": 20_000.0},
        {"contender": "falcon-wsgi", "mode": "wsgi", "route": "json", "instructions": 70_000.0},
        {"contender": "duoweb-asgi", "mode": "asgi", "route": "json", "error": "boom"},
    ]
    results = {"instructions": cells, "options": {"instructions": {"requests": 100}}}
    lines = _instructions_section(results, ["json"])
    assert "| duoweb-wsgi | 20.0k (3.50x falcon-wsgi) |" in lines
    assert "| falcon-wsgi | 70.0k |" in lines
    assert "| duoweb-asgi | failed |" in lines
    skipped = _instructions_section({"instructions_skipped": "no valgrind"}, ["json"])
    assert "Not counted: no valgrind." in skipped
