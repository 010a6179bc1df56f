"""Slow ("slowloris") clients against real servers: what each server model can and cannot do.

A Gunicorn sync worker serves one connection at a time and has no read timeout of its own: a
client that trickles its request holds the worker until the arbiter's ``--timeout`` aborts
it (Gunicorn then writes its own 500 page to that client and starts a new worker). So N slow
clients delay everyone else by about ceil(N / workers) x timeout. Hypercorn serves every
connection on its event loop, so slow clients cost nothing to others. Protection against slow
clients belongs in front of a sync server (a buffering proxy), not in the framework.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from tests.robustness.wire import running

pytestmark = pytest.mark.e2e

TIMEOUT = 3  # gunicorn --timeout for these tests


def _trickle(port: int, seconds: float, outcome: dict[int, str], key: int) -> None:
    """Send a request one header line every 0.3 s, never finishing it; note how it ended."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(0.3)
        sock.sendall(b"POST /record HTTP/1.1\r\nHost: x\r\n")
        received = b""
        while time.monotonic() - started < seconds:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                outcome[key] = f"{type(exc).__name__} after {time.monotonic() - started:.1f}s"
                return
            if not chunk:
                first = received.split(b"\r\n", 1)[0].decode("latin-1")
                outcome[key] = f"closed after {time.monotonic() - started:.1f}s: {first!r}"
                return
            received += chunk
        outcome[key] = "still open"


def test_gunicorn_sync_workers_are_held_until_the_worker_timeout() -> None:
    with running(
        "gunicorn",
        "tests.robustness.server_app:app",
        workers=2,
        extra=["--timeout", str(TIMEOUT)],
    ) as server:
        original = server.workers()
        outcome: dict[int, str] = {}
        slow = [
            threading.Thread(target=_trickle, args=(server.port, 4 * TIMEOUT, outcome, i))
            for i in range(2)
        ]
        for thread in slow:
            thread.start()
        time.sleep(0.5)  # both workers are now reading a slow request
        started = time.monotonic()
        response = httpx.get(server.base + "/plaintext", timeout=30)
        waited = time.monotonic() - started
        for thread in slow:
            thread.join()
        log = server.log()
        replaced = server.workers()
    print(f"gunicorn: a normal request waited {waited:.1f}s; slow clients: {outcome}")
    assert response.status_code == 200
    assert 1.5 < waited < TIMEOUT + 8  # blocked until a worker was aborted
    assert log.count("WORKER TIMEOUT") >= 2
    assert not set(original) & set(replaced)
    assert len(replaced) == 2
    for result in outcome.values():  # Gunicorn's own 500 page, or a bare close
        assert result.startswith(("closed", "ConnectionResetError")), result


def test_hypercorn_serves_others_while_slow_clients_trickle() -> None:
    with running("hypercorn", "tests.robustness.server_app:app.asgi", workers=1) as server:
        outcome: dict[int, str] = {}
        slow = [
            threading.Thread(target=_trickle, args=(server.port, 8.0, outcome, i)) for i in range(8)
        ]
        for thread in slow:
            thread.start()
        time.sleep(0.5)
        waits = []
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for _ in range(10):
                started = time.monotonic()
                assert client.get("/plaintext").status_code == 200
                waits.append(time.monotonic() - started)
                time.sleep(0.1)
            slow_body = _slow_body_request(server.port)
        for thread in slow:
            thread.join()
    print(f"hypercorn: slowest normal request {max(waits):.2f}s; slow clients: {outcome}")
    print(f"hypercorn: a body sent over 2 s: {slow_body}")
    assert max(waits) < 1.5
    assert slow_body == 200


def _slow_body_request(port: int) -> int | None:
    """A complete request whose body arrives one byte every 0.1 s: slow, but served."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
        )
        for _ in range(20):
            sock.sendall(b"x")
            time.sleep(0.1)
        answer = sock.recv(4096)
    return int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else None
