"""Lifespan and background tasks under real Gunicorn (sync workers) and Hypercorn."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

SERVED = [
    ("gunicorn", "tests.e2e.lifespan_app:app", 2),
    # Hypercorn 0.18 can cut a second worker's shutdown short (see test_servers.py).
    ("hypercorn", "tests.e2e.lifespan_app:app.asgi", 1),
]


def _events(log: Path) -> list[tuple[str, int]]:
    if not log.exists():
        return []
    return [
        (event, int(pid)) for event, pid in (line.split() for line in log.read_text().splitlines())
    ]


def _task_events(log: Path, count: int) -> list[tuple[str, int]]:
    """The tasks' log lines, once there are ``count`` of them (or after 30 s)."""
    deadline = time.monotonic() + 30
    while sum(1 for e, _ in _events(log) if e.startswith("task")) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return [e for e in _events(log) if e[0].startswith("task")]


@pytest.mark.parametrize(("server", "target", "workers"), SERVED, ids=[s[0] for s in SERVED])
def test_lifespan_once_per_worker_and_tasks_after_the_response(
    server: str, target: str, workers: int, tmp_path: Path
) -> None:
    log = tmp_path / "lifespan.log"
    with serve(server, target, workers=workers, env={"DUOWEB_LIFESPAN_LOG": str(log)}) as url:
        answers = [httpx.get(url + "/", timeout=10).json() for _ in range(20)]
        for pid, state in answers:
            assert state == f"state of {pid}"  # each worker's own lifespan state
        for number, path in enumerate(["/notify", "/notify-async"]):
            marker = tmp_path / f"marker-{number}"
            response = httpx.post(url + path, params={"marker": str(marker)}, timeout=30)
            assert response.json() == "queued"
            marker.touch()  # only now may the task finish
            tasks = _task_events(log, number + 1)
            assert [event for event, _ in tasks] == ["task-ran-after-the-response"] * (number + 1)
    events = _events(log)
    entered = [pid for event, pid in events if event == "enter"]
    exited = [pid for event, pid in events if event == "exit"]
    assert {pid for pid, _ in answers} <= set(entered)
    assert len(entered) == len(set(entered))  # once per worker process
    assert sorted(exited) == sorted(entered)  # every worker ran the lifespan's cleanup
