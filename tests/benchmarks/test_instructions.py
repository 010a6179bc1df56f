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
