"""The served instruction counter: dumps, ratios, tables, its part in benchmarks.run and the page.

Only the last test starts a server under valgrind (and is skipped without it); the others
fake the server, the clock or the counter.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks import inprocess, instructions, run, served, startup
from benchmarks import served_instructions as si
from benchmarks.contenders import BY_NAME, Contender
from benchmarks.served import server_command
from benchmarks.spec import BENCH
from tests.benchmarks.documents import page

DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  python -m gunicorn
part: 2

desc: Trigger: Client Request: dump

positions: line
events: Ir
summary: 250123456

fl=(1) ???
fn=(1) 0x0000000000017cd0
0 3
totals: 250123456
"""


def cell(server: str, name: str, route: str, count: float | None) -> dict[str, Any]:
    """A counted cell as ``count_cells`` returns it (an error when ``count`` is None)."""
    row: dict[str, Any] = {
        "server": server,
        "contender": name,
        "mode": BY_NAME[name].mode,
        "route": route,
        "requests": 100,
    }
    row.update({"instructions": count} if count else {"error": "RuntimeError: boom"})
    return row


def test_the_total_comes_from_the_dumps_summary_or_totals_line() -> None:
    assert si.dump_total(DUMP) == 250_123_456
    assert si.dump_total("events: Ir\ntotals: 17\n") == 17
    with pytest.raises(ValueError, match="no summary"):
        si.dump_total("events: Ir\n")


def test_the_latest_numbered_dump_of_a_process_is_read(tmp_path: Path) -> None:
    for name in ("cg.12", "cg.12.1", "cg.12.2", "cg.12.10", "cg.13.11"):
        (tmp_path / name).write_text(name)
    assert si.latest_dump(tmp_path, 12).name == "cg.12.10"
    with pytest.raises(RuntimeError, match="no dump for process 14"):
        si.latest_dump(tmp_path, 14)


def test_the_server_runs_as_served_starts_it_under_callgrind(tmp_path: Path) -> None:
    command = si.valgrind_command("gunicorn", "m:app", 8000, tmp_path)
    served_part = server_command("gunicorn", "m:app", 8000)
    start = command.index(served_part[0])
    assert command[start : start + len(served_part)] == served_part
    assert command[0] == "valgrind"
    assert {"--tool=callgrind", "--instr-atstart=no", "--trace-children=yes"} <= set(command)
    assert f"--callgrind-out-file={tmp_path}/cg.%p" in command
    assert command[-2:] == ["--timeout", "900"]  # the slow worker is not killed
    assert si.valgrind_command("uvicorn", "m:app", 8000, tmp_path)[-1] == "--no-access-log"


def test_the_ratio_is_raws_count_over_the_contenders_under_the_same_server() -> None:
    cells = [
        cell("gunicorn", "raw-wsgi", "json", 400_000),
        cell("gunicorn", "duoweb-wsgi", "json", 500_000),
        cell("gunicorn", "falcon-wsgi", "json", None),
        cell("hypercorn", "raw-asgi", "json", 900_000),
        cell("uvicorn", "raw-asgi", "json", 100_000),
        cell("uvicorn", "duoweb-asgi", "json", 125_000),
        cell("uvicorn", "duoweb-asgi", "body", 130_000),  # no raw count on this route
    ]
    si.add_ratios(cells)
    assert [c["ratio"] for c in cells] == [1.0, 0.8, None, 1.0, 1.0, 0.8, None]


def test_the_table_shows_thousands_and_the_ratio_for_all_but_raw() -> None:
    cells = [
        cell("gunicorn", "raw-wsgi", "plaintext", 500_400),
        cell("gunicorn", "raw-wsgi", "json", 520_000),
        cell("gunicorn", "duoweb-wsgi", "plaintext", 509_600),
        cell("gunicorn", "duoweb-wsgi", "json", None),
    ]
    si.add_ratios(cells)
    assert si.format_table(cells, ["plaintext", "json", "body"]).splitlines() == [
        "| contender | plaintext | json | body |",
        "|---|---|---|---|",
        "| raw-wsgi | 500.4k | 520.0k | - |",
        "| duoweb-wsgi | 509.6k (0.98) | failed | - |",
    ]


class FakeServer(si.CountedServer):
    """Records the control commands it is given; its dumps give the counts it was made with."""

    def __init__(self, counts: dict[int, int]) -> None:
        super().__init__("hypercorn", BY_NAME["raw-asgi"], Path("/nonexistent"))
        self.counts = counts
        self.commands: list[str] = []

    def control(self, pids: Sequence[int], *args: str) -> None:
        self.commands.append(args[0])

    def dump(self, pids: Sequence[int]) -> dict[int, int]:
        self.commands.append("--dump")
        return self.counts


def test_a_route_counts_the_busiest_process_less_its_idle_instructions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks = iter([100.0, 101.0, 111.0, 112.0])  # zero takes 1 s, requests 10, dump 1
    monkeypatch.setattr(si, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(si, "send_many", lambda _, probe, n: sent.append((probe.path, n)))
    monkeypatch.setattr(si, "send", lambda *_, **__: (200, [("content-type", "text/plain")], b""))
    monkeypatch.setattr(si, "verify", lambda *_: None)
    srv = FakeServer({7: 2_000, 8: 20_011_000})
    cell = si.count_route(srv, {7: 100.0, 8: 1_000.0}, "plaintext", 100)
    assert sent == [("/plaintext", si.WARMUP), ("/plaintext", 100)]
    assert srv.commands == ["--zero", "--dump"]
    assert cell["seconds"] == 11.0  # from the middle of the zeroing to the middle of the dump
    assert cell["idle"] == 110.0  # 1000/s for 11 s over 100 requests
    assert cell["instructions"] == 200_000.0  # (20,011,000 - 11,000) / 100
    assert cell["others"] == 20.0


def test_a_wrong_answer_is_reported_without_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(si, "send", lambda *_, **__: (500, [], b"oops"))
    srv = FakeServer({})
    cell = si.count_route(srv, {1: 0.0}, "json", 10)
    assert cell["error"].startswith("wrong answer: status 500")
    assert srv.commands == []


def test_requests_are_shared_between_the_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    shares: list[int] = []
    monkeypatch.setattr(si, "_send_serially", lambda _, __, n: shares.append(n))
    si.send_many(1, BENCH["plaintext"], 10, connections=4)
    assert sorted(shares) == [2, 2, 3, 3]
    shares.clear()
    si.send_many(1, BENCH["plaintext"], 2, connections=4)
    assert shares == [1, 1]


def test_a_server_that_fails_fails_its_cells_and_a_route_only_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stopped: list[str] = []

    class Broken(si.CountedServer):
        def start(self, timeout: float = 0.0, probe_timeout: float = 0.0) -> None:
            if self.contender.name == "duoweb-wsgi":
                raise RuntimeError("server exited with 3")

        def instrument(self) -> list[int]:
            return [1]

        def stop(self) -> None:
            stopped.append(self.contender.name)

    def fake_route(srv: si.CountedServer, idle: Any, route: str, n: int) -> dict[str, Any]:
        if route == "json":
            raise ConnectionRefusedError("refused")
        return {"instructions": 1000.0}

    monkeypatch.setattr(si, "CountedServer", Broken)
    monkeypatch.setattr(si, "idle_rates", lambda *_: {1: 0.0})
    monkeypatch.setattr(si, "count_route", fake_route)
    contenders = [BY_NAME["raw-wsgi"], BY_NAME["duoweb-wsgi"], BY_NAME["raw-asgi"]]
    lines: list[str] = []
    cells = si.count_cells(contenders, ["plaintext", "json"], ["gunicorn"], 10, log=lines.append)
    by = {(c["contender"], c["route"]): c for c in cells}
    assert by["raw-wsgi", "plaintext"]["ratio"] == 1.0
    assert by["raw-wsgi", "json"]["error"] == "ConnectionRefusedError: refused"
    assert by["duoweb-wsgi", "plaintext"]["error"] == "server failed: server exited with 3"
    assert sorted(stopped) == ["duoweb-wsgi", "raw-wsgi"]  # no ASGI app under gunicorn
    assert any("duoweb-wsgi" in line and "failed" in line for line in lines)


def test_the_command_checks_its_arguments_and_valgrind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in (["--routes", "nope"], ["--servers", "nginx"], ["--contenders", "x"]):
        with pytest.raises(SystemExit) as exited:
            si.main(bad)
        assert exited.value.code == 2
    monkeypatch.setattr(si, "available", lambda: False)
    assert si.main(["--servers", "gunicorn"]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err


def test_the_command_counts_the_run_families_and_prints_a_table_per_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[list[str], list[str], list[str], int]] = []

    def fake_count(
        contenders: Sequence[Contender],
        routes: list[str],
        servers: list[str],
        requests: int,
        **_: Any,
    ) -> list[dict[str, Any]]:
        asked.append(([c.name for c in contenders], routes, servers, requests))
        return [cell(s, "raw-asgi", r, 100_000) for s in servers for r in routes]

    monkeypatch.setattr(si, "available", lambda: True)
    monkeypatch.setattr(si, "count_cells", fake_count)
    argv = ["--servers", "hypercorn,uvicorn", "--routes", "json", "--requests", "50"]
    assert si.main(argv) == 0
    names, routes, servers, requests = asked[0]
    assert {BY_NAME[n].family for n in names} == set(instructions.RUN_FAMILIES)
    assert (routes, servers, requests) == (["json"], ["hypercorn", "uvicorn"], 50)
    out = capsys.readouterr().out
    assert "\nhypercorn: thousands of instructions" in out
    assert "\nuvicorn: thousands of instructions" in out
    assert out.count("| raw-asgi | 100.0k |") == 2


# --- the part in benchmarks.run, and its section of the page ---------------------------------


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every part of benchmarks.run replaced by a recorder; returns the parts run, in order."""
    ran: list[str] = []

    def recorder(part: str, result: Any) -> Callable[..., Any]:
        def fake(*_: Any, **__: Any) -> Any:
            ran.append(part)
            return result

        return fake

    startup_result = {"samples": 1, "bare_rss_mib": 1.0, "rows": []}
    monkeypatch.setattr(run, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(run, "_meta", lambda argv: {"command": "python -m benchmarks.run"})
    monkeypatch.setattr(inprocess, "run", recorder("inprocess", []))
    monkeypatch.setattr(served, "run", recorder("served", []))
    monkeypatch.setattr(startup, "run", recorder("startup", startup_result))
    monkeypatch.setattr(instructions, "available", lambda: True)
    monkeypatch.setattr(instructions, "count_cells", recorder("instructions", []))
    monkeypatch.setattr(si, "available", lambda: True)
    counted = [cell("gunicorn", "raw-wsgi", "plaintext", 500_000)]
    monkeypatch.setattr(si, "count_cells", recorder("served-instructions", counted))
    return ran


def saved(directory: Path) -> dict[str, Any]:
    """The one results file benchmarks.run wrote into ``directory``."""
    (path,) = directory.glob("*.json")
    results: dict[str, Any] = json.loads(path.read_text())
    return results


def test_a_full_run_counts_served_instructions_and_a_quick_one_does_not(
    fake_parts: list[str], tmp_path: Path
) -> None:
    assert run.main(["--quick", "--no-docs"]) == 0
    assert fake_parts == ["inprocess", "served", "startup"]
    fake_parts.clear()
    for path in tmp_path.glob("*.json"):
        path.unlink()
    assert run.main(["--no-docs", "--servers", "gunicorn"]) == 0
    assert fake_parts == ["inprocess", "served", "startup", "instructions", "served-instructions"]
    results = saved(tmp_path)
    assert results["served-instructions"][0]["contender"] == "raw-wsgi"
    assert results["options"]["served-instructions"]["requests"] == 500
    assert "served-instructions" in results["meta"]["part_seconds"]


def test_the_part_runs_alone_with_only_and_is_kept_by_keep(
    fake_parts: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run.main(["--quick", "--only", "served-instructions", "--no-docs"]) == 0
    assert fake_parts == ["served-instructions"]
    first = saved(tmp_path)
    assert first["options"]["served-instructions"]["requests"] == 200  # quick
    earlier = tmp_path / "earlier" / "results.json"
    earlier.parent.mkdir()
    earlier.write_text(json.dumps({**first, "meta": {**first["meta"], "date": "then"}}))
    for path in tmp_path.glob("*.json"):
        path.unlink()
    assert run.main(["--only", "startup", "--no-docs", "--keep", str(earlier)]) == 0
    kept = saved(tmp_path)
    assert kept["served-instructions"] == first["served-instructions"]
    assert kept["options"]["served-instructions"] == first["options"]["served-instructions"]
    assert kept["meta"]["kept_parts"]["parts"] == ["served-instructions"]


def test_the_part_is_skipped_with_a_reason_without_valgrind(
    fake_parts: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(si, "available", lambda: False)
    assert run.main(["--only", "served-instructions", "--no-docs"]) == 0
    assert fake_parts == []
    results = saved(tmp_path)
    assert results["served_instructions_skipped"] == "valgrind is not installed"
    assert "served-instructions" not in results


def test_the_page_has_a_served_instructions_section_only_with_counts() -> None:
    cells = [
        cell("gunicorn", "raw-wsgi", "plaintext", 500_400),
        cell("gunicorn", "raw-wsgi", "json", 520_000),
        cell("gunicorn", "duoweb-wsgi", "plaintext", 509_600),
        cell("gunicorn", "duoweb-wsgi", "json", None),
        cell("uvicorn", "raw-asgi", "plaintext", 110_000),
        cell("uvicorn", "duoweb-asgi", "plaintext", 120_000),
    ]
    si.add_ratios(cells)
    text = page(**{"served-instructions": cells})
    assert "## Served: instructions per request" in text
    assert "divided by the contender's under the same server" in text
    assert "over 500 requests from 4 clients at once" in text
    assert "| duoweb-wsgi | **0.98** · 509.6k | error |" in text
    assert "| raw-wsgi | **1.00** · 500.4k | **1.00** · 520.0k |" in text
    assert "### Under uvicorn" in text
    assert "| duoweb-asgi | **0.92** · 120.0k | - |" in text
    assert "- gunicorn duoweb-wsgi (json): RuntimeError: boom" in text
    assert "Served: instructions per request" not in page()
    skipped = page(served_instructions_skipped="valgrind is not installed")
    assert (
        "## Served: instructions per request\n\nNot counted: valgrind is not installed." in skipped
    )


# --- one real count ----------------------------------------------------------------------------


@pytest.mark.skipif(not si.available(), reason="valgrind is not installed (it is a dev tool)")
@pytest.mark.skipif(
    importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed"
)
def test_a_real_count_under_gunicorn_is_sane_and_leaves_no_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions: list[int] = []
    stop = si.CountedServer.stop

    def recorded_stop(self: si.CountedServer) -> None:
        sessions.append(self.proc.pid if self.proc else 0)
        stop(self)

    monkeypatch.setattr(si.CountedServer, "stop", recorded_stop)
    contenders = [BY_NAME["raw-wsgi"], BY_NAME["duoweb-wsgi"]]
    cells = si.count_cells(contenders, ["plaintext"], ["gunicorn"], 40, log=lambda _: None)
    assert [c.get("error") for c in cells] == [None, None]
    raw, duoweb = (c["instructions"] for c in cells)
    # a served request is hundreds of thousands of instructions, most of them gunicorn's
    assert 50_000 < raw < 5_000_000
    assert 0.5 < raw / duoweb < 1.1
    assert cells[1]["ratio"] == raw / duoweb
    assert len(sessions) == 2
    for session in sessions:
        with pytest.raises(ProcessLookupError):  # nothing of the server's session is left
            os.killpg(session, 0)
