"""The served benchmark interleaves its wrk samples across the contenders of one server.

No wrk and no server runs here: a fake load records the order of checks, warm-ups and samples.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from benchmarks import served
from benchmarks.contenders import BY_NAME, Contender
from benchmarks.served import Load, Server, rounds, serve

WSGI = [BY_NAME[name] for name in ("raw-wsgi", "duoweb-wsgi", "flask")]
NAMES = [c.name for c in WSGI]
ROUTES = ["plaintext", "json", "query"]

Event = tuple[str, str, str]  # (what, route, contender)


class FakeLoad(Load):
    """Records what would be done to which server; fails where told to."""

    def __init__(
        self,
        log_dir: Path,
        runs: int = 3,
        *,
        broken: Collection[str] = (),
        wrong: Collection[tuple[str, str]] = (),
        dies: Collection[tuple[str, str]] = (),
    ) -> None:
        super().__init__(1, 1, runs, 1, 0, 0, {}, log_dir)
        self.broken = broken  # contenders whose server does not start
        self.wrong = wrong  # (contender, route) answered wrongly
        self.dies = dies  # (contender, route) where the server goes away under load
        self.events: list[Event] = []
        self.stopped: list[str] = []

    def open(self, stack: ExitStack, server: str, contender: Contender) -> Server:
        stack.callback(self.stopped.append, contender.name)
        if contender.name in self.broken:
            raise RuntimeError("server exited with 3")
        return Server(server, contender, self.app_cpu, self.log_dir)  # never started

    def check(self, srv: Server, route: str) -> str | None:
        self.events.append(("check", route, srv.contender.name))
        return "status 500" if (srv.contender.name, route) in self.wrong else None

    def warm(self, srv: Server, route: str) -> None:
        self.events.append(("warm", route, srv.contender.name))

    def sample(self, srv: Server, route: str) -> dict[str, Any]:
        name = srv.contender.name
        if (name, route) in self.dies and ("sample", route, name) in self.events:
            raise ConnectionRefusedError("connection refused")
        self.events.append(("sample", route, name))
        n = len(self.events)
        return {
            "wall_rate": 1000.0 + n,
            "cpu_rate": 2000.0 + n,
            "requests": 100,
            "server_cpu_s": 1.0,
            "non_2xx": 0,
            "socket_errors": 0,
            "latency_ms": 1.5,
        }

    def sampled(self, route: str) -> list[str]:
        """Contender names in the order ``route`` was sampled."""
        return [name for what, r, name in self.events if what == "sample" and r == route]


def cells_by(cells: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["contender"], c["route"]): c for c in cells}


def test_rounds_rotate_the_start_and_give_each_item_one_turn_per_round() -> None:
    order = list(rounds("abc", 4))
    assert [item for _, item in order] == [*"abc", *"bca", *"cab", *"abc"]
    assert [r for r, _ in order] == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    assert list(rounds("ab", 0)) == []
    assert list(rounds("", 3)) == []


def test_every_contender_gets_runs_samples_per_route_interleaved(tmp_path: Path) -> None:
    load = FakeLoad(tmp_path, runs=3)
    serve("gunicorn", WSGI, ROUTES, load, log=lambda _: None)
    for route in ROUTES:
        order = load.sampled(route)
        assert sorted(order) == sorted(NAMES * 3)
        for round_ in range(3):
            assert sorted(order[3 * round_ : 3 * round_ + 3]) == sorted(NAMES)
        assert [order[0], order[3], order[6]] == NAMES  # each round starts one later
        for name in NAMES:
            at = [i for i, n in enumerate(order) if n == name]
            assert at[-1] - at[0] > len(at) - 1  # not one block of consecutive samples


def test_each_route_is_checked_and_warmed_before_its_samples(tmp_path: Path) -> None:
    load = FakeLoad(tmp_path, runs=2)
    serve("gunicorn", WSGI, ROUTES, load, log=lambda _: None)
    kinds = [(r, what) for what, r, _ in load.events]
    per_route = [("check", 3), ("warm", 3), ("sample", 6)]
    expected = [(r, what) for r in ROUTES for what, times in per_route for _ in range(times)]
    assert kinds == expected
    assert sorted(load.stopped) == sorted(NAMES)


def test_cells_keep_the_keys_the_report_reads(tmp_path: Path) -> None:
    lines: list[str] = []
    cells = serve("gunicorn", WSGI, ["json"], FakeLoad(tmp_path, runs=3), log=lines.append)
    assert [(c["contender"], c["route"]) for c in cells] == [(n, "json") for n in NAMES]
    for cell in cells:
        assert "error" not in cell
        assert (cell["server"], cell["mode"]) == ("gunicorn", "wsgi")
        assert len(cell["rates"]) == len(cell["wall_rates"]) == 3
        assert cell["rates"] == cell["cpu_rates"]  # the default clock is CPU time
        assert cell["min"] <= cell["median"] <= cell["max"]
        assert cell["server_cpu_s"] == [1.0] * 3
        assert cell["latency_ms"] == [1.5] * 3
        assert cell["non_2xx"] == cell["socket_errors"] == 0
    assert len(lines) == len(cells)
    assert all("req/s" in line for line in lines)


def test_a_server_that_does_not_start_only_errors_its_own_cells(tmp_path: Path) -> None:
    load = FakeLoad(tmp_path, runs=2, broken={"duoweb-wsgi"})
    cells = cells_by(serve("gunicorn", WSGI, ROUTES, load, log=lambda _: None))
    for route in ROUTES:
        assert cells["duoweb-wsgi", route]["error"] == "server failed: server exited with 3"
        assert "error" not in cells["raw-wsgi", route]
        assert "error" not in cells["flask", route]
        assert load.sampled(route) == ["raw-wsgi", "flask", "flask", "raw-wsgi"]
    assert sorted(load.stopped) == sorted(NAMES)


def test_a_wrong_answer_skips_only_that_cell(tmp_path: Path) -> None:
    load = FakeLoad(tmp_path, runs=2, wrong={("flask", "json")})
    cells = cells_by(serve("gunicorn", WSGI, ROUTES, load, log=lambda _: None))
    assert cells["flask", "json"]["error"] == "wrong answer: status 500"
    assert ("warm", "json", "flask") not in load.events
    assert sorted(load.sampled("json")) == sorted(["raw-wsgi", "duoweb-wsgi"] * 2)
    assert [k for k, c in cells.items() if "error" in c] == [("flask", "json")]


def test_a_server_dying_under_load_errors_only_its_unmeasured_cells(tmp_path: Path) -> None:
    load = FakeLoad(tmp_path, runs=3, dies={("duoweb-wsgi", "json")})
    lines: list[str] = []
    cells = cells_by(serve("gunicorn", WSGI, ROUTES, load, log=lines.append))
    assert "error" not in cells["duoweb-wsgi", "plaintext"]  # measured before it went away
    for route in ("json", "query"):
        assert cells["duoweb-wsgi", route]["error"] == "server failed: connection refused"
    assert load.sampled("json").count("duoweb-wsgi") == 1
    assert "duoweb-wsgi" not in load.sampled("query")
    assert [k for k, c in cells.items() if "error" in c] == [
        ("duoweb-wsgi", "json"),
        ("duoweb-wsgi", "query"),
    ]
    assert any("duoweb-wsgi" in line and "FAILED" in line for line in lines)


def test_every_server_is_stopped_when_something_unexpected_breaks(tmp_path: Path) -> None:
    class Broken(FakeLoad):
        def sample(self, srv: Server, route: str) -> dict[str, Any]:
            raise KeyError("bug")

    load = Broken(tmp_path)
    with pytest.raises(KeyError):
        serve("gunicorn", WSGI, ROUTES, load, log=lambda _: None)
    assert sorted(load.stopped) == sorted(NAMES)


def test_run_serves_each_servers_mode_together_and_adds_ratios(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[tuple[str, list[str]]] = []

    def fake_serve(
        server: str,
        group: Sequence[Contender],
        routes: Sequence[str],
        load: Load,
        log: Callable[[str], None],
    ) -> list[dict[str, Any]]:
        groups.append((server, [c.name for c in group]))
        return serve(server, group, routes, FakeLoad(tmp_path, runs=load.runs), log)

    monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/wrk")  # no wrk is run
    monkeypatch.setattr(served, "serve", fake_serve)
    contenders = [*WSGI, BY_NAME["raw-asgi"], BY_NAME["duoweb-asgi"]]
    cells = served.run(contenders, ["json"], ["gunicorn", "uvicorn"], runs=2, log=lambda _: None)
    assert groups == [("gunicorn", NAMES), ("uvicorn", ["raw-asgi", "duoweb-asgi"])]
    ratios = {(c["server"], c["contender"]): c["ratio"] for c in cells}
    assert ratios["gunicorn", "raw-wsgi"] == ratios["uvicorn", "raw-asgi"] == 1.0
    assert all(ratio is not None and ratio > 0 for ratio in ratios.values())
