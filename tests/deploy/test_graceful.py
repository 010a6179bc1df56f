"""Gunicorn worker restarts lose no request, in WSGI (sync) and ASGI (asgi worker) mode.

A reload (SIGHUP) replaces every worker while a slow request is in flight; ``--max-requests``
recycles workers over and over under a stream of requests. Every request must succeed, and
each worker process must run its startup hooks once and its shutdown hooks when it leaves.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.deploy import provision
from tests.deploy.cases import new_client
from tests.deploy.commands import SERVERS_BY_NAME, values_for
from tests.deploy.hooks import HookLog, scratch_dir
from tests.deploy.launch import Running, run_server
from tests.e2e.servers import free_port

pytestmark = pytest.mark.e2e

BODY = b"x" * 5000


@dataclass(frozen=True)
class Outcome:
    """One request of the stream: what was sent, when, and what came back."""

    what: str
    started: float
    finished: float
    error: str | None
    pid: int | None = None


def one_request(client: httpx.Client, base: str, kind: int, slow_ms: int) -> Outcome:
    """Send request ``kind`` of the mix (the third sleeps ``slow_ms``); check the answer."""
    started = time.monotonic()
    pid: int | None = None
    what = ["GET /json", "POST /items", f"POST /_deploy/slow?ms={slow_ms}"][kind % 3]
    try:
        if kind % 3 == 0:
            response = client.get(base + "/json")
            ok = response.status_code == 200 and response.json() == {"message": "Hello, World!"}
        elif kind % 3 == 1:
            response = client.post(
                base + "/items",
                content=b'{"name":"n","price":1.5}',
                headers={"content-type": "application/json"},
            )
            ok = response.status_code == 201 and response.json()["name"] == "n"
        else:
            response = client.post(base + f"/_deploy/slow?ms={slow_ms}", content=BODY)
            ok = response.status_code == 200 and response.json()["length"] == len(BODY)
            pid = response.json()["pid"] if ok else None
        error = None if ok else f"{response.status_code} {response.content[:200]!r}"
    except httpx.HTTPError as exc:
        error = repr(exc)
    return Outcome(what, started, time.monotonic(), error, pid)


class Stream:
    """Client threads sending a bounded stream of requests until told to stop.

    Thread 0 sends only requests that sleep ``slow_ms`` in the handler, so one is nearly
    always in flight; the others send a mix of quick requests.
    """

    def __init__(self, base: str, threads: int, limit: int, slow_ms: int) -> None:
        self.base = base
        self.limit = limit
        self.slow_ms = slow_ms
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()
        self.slow_in_flight = threading.Event()
        self._lock = threading.Lock()
        self._sent = 0
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _next(self) -> int | None:
        with self._lock:
            if self.stop.is_set() or self._sent >= self.limit:
                return None
            self._sent += 1
            return self._sent

    def _run(self, index: int) -> None:
        with new_client(timeout=30) as client:
            while (number := self._next()) is not None:
                if index == 0:
                    self.slow_in_flight.set()
                    outcome = one_request(client, self.base, 2, self.slow_ms)
                    self.slow_in_flight.clear()
                else:
                    outcome = one_request(client, self.base, number, 0)
                with self._lock:
                    self.outcomes.append(outcome)

    def failures(self) -> list[str]:
        """Every request that did not succeed, with why."""
        return [f"{o.what}: {o.error}" for o in self.outcomes if o.error is not None]

    def served_by(self) -> set[int]:
        """The worker pids that answered requests to the slow route."""
        return {o.pid for o in self.outcomes if o.pid is not None}


def children(pid: int) -> set[int]:
    """The ids of the live child processes of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the last ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def gunicorn(worker: str, scratch: Path, extra: list[str]) -> tuple[list[str], dict[str, str], str]:
    """The tested Gunicorn command for ``worker`` ("sync" or "asgi") plus ``extra`` options."""
    provision.require("gunicorn")
    spec = SERVERS_BY_NAME[f"gunicorn-{worker}"]
    port = free_port()
    argv = spec.argv(values_for(port, scratch))
    argv = [*argv[:-1], "-w", "2", "--graceful-timeout", "10", *extra, argv[-1]]
    env = {"DUOWEB_HOOK_LOG": str(scratch / "hooks.log")}
    return argv, env, f"http://127.0.0.1:{port}"


def assert_hooks(running: Running, log: Path, served: set[int]) -> None:
    hooks = HookLog.read(log)
    found = hooks.problems(master=running.pid, served=served, workers=None, exact=False)
    assert not found, "\n".join([*found, running.log_tail()])


@pytest.mark.parametrize("worker", ["sync", "asgi"])
def test_reload_with_hup_loses_no_request(worker: str) -> None:
    with scratch_dir() as scratch:
        argv, env, base = gunicorn(worker, scratch, [])
        with run_server(f"gunicorn-{worker}-hup", argv, base_url=base, env=env) as running:
            wait_for(lambda: len(children(running.pid)) == 2, 15, "two workers")
            old = children(running.pid)
            with Stream(base, threads=3, limit=400, slow_ms=400) as stream:
                wait_for(lambda: len(stream.outcomes) >= 6, 15, "the stream to flow")
                wait_for(stream.slow_in_flight.is_set, 15, "a slow request in flight")
                time.sleep(0.1)  # it has reached a worker, which is sleeping in the handler
                hup_at = time.monotonic()
                os.kill(running.pid, signal.SIGHUP)
                wait_for(
                    lambda: bool(stream.served_by() - old) and not children(running.pid) & old,
                    20,
                    "new workers answering and the old ones gone",
                )
                time.sleep(0.3)
            failures = stream.failures()
            in_flight = [
                o
                for o in stream.outcomes
                if o.pid in old and o.started < hup_at < o.finished and o.error is None
            ]
            served = stream.served_by()
            running.stop()
        assert not failures, f"{len(failures)} of {len(stream.outcomes)} failed: {failures[:5]}"
        assert in_flight, "no slow request was in flight in an old worker during the reload"
        assert_hooks(running, scratch / "hooks.log", served)


@pytest.mark.parametrize("worker", ["sync", "asgi"])
def test_max_requests_recycling_loses_no_request(worker: str) -> None:
    # --preload for sync: workers forked from a master that imported the app must still run
    # their own startup hooks, and the master none.
    extra = ["--max-requests", "8", "--max-requests-jitter", "4"]
    if worker == "sync":
        extra.append("--preload")
    with scratch_dir() as scratch:
        argv, env, base = gunicorn(worker, scratch, extra)
        with run_server(f"gunicorn-{worker}-max-requests", argv, base_url=base, env=env) as running:
            with Stream(base, threads=4, limit=5000, slow_ms=100) as stream:
                # Until both first workers have been replaced. This is not a request count:
                # the asgi worker goes on serving for up to a second after its last one.
                wait_for(
                    lambda: len(stream.served_by()) >= 4 and len(stream.outcomes) >= 100,
                    30,
                    "workers to be recycled",
                )
            failures = stream.failures()
            served = stream.served_by()
            running.stop()
        assert not failures, f"{len(failures)} of {len(stream.outcomes)} failed: {failures[:5]}"
        assert_hooks(running, scratch / "hooks.log", served)
