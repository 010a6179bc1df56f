"""An unused BackgroundTasks is reused (compiled twin): never with tasks, never shared.

The compiled request path hands the next request a BackgroundTasks that an earlier one left
empty and that nothing holds any more. These tests take the object in every way an app can
(direct call, extracted arguments, a dependency, kept by the handler, kept through the
request) and check that each request sees an empty object of its own and each task runs once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Any

import msgspec

from duoweb import App, BackgroundTasks, Depends, Request
from tests.conftest import MakeClient


class Numbered(msgspec.Struct):
    """A request body."""

    n: int


#: Concurrent requests in the thread and event-loop tests.
CONCURRENT = 6


def _reuse_app(ran: list[str], sizes: list[int], kept: list[Any]) -> App:
    """Routes that take the tasks by every path, some keeping the object or the request."""
    app = App()

    def fresh(tasks: BackgroundTasks) -> None:
        """Record the size, and that no object kept by an earlier request is this one."""
        sizes.append(len(tasks))
        for holder in kept:
            assert tasks is not (holder.background if isinstance(holder, Request) else holder)

    def stored(tasks: BackgroundTasks) -> int:
        fresh(tasks)
        kept.append(tasks)
        return len(kept)

    @app.get("/direct/{n}", inline=True)  # a direct call
    def direct(n: int, tasks: BackgroundTasks) -> int:
        fresh(tasks)
        if n % 2:
            tasks.add(ran.append, f"direct-{n}")
        return n

    @app.get("/query")  # extracted arguments
    def query(n: int, tasks: BackgroundTasks) -> int:
        fresh(tasks)
        if n % 2:
            tasks.add(ran.append, f"query-{n}")
        return n

    @app.get("/aquery")
    async def aquery(n: int, tasks: BackgroundTasks) -> int:
        fresh(tasks)
        if n % 2:
            tasks.add(ran.append, f"aquery-{n}")
        return n

    @app.post("/body")
    def body(payload: Numbered, tasks: BackgroundTasks) -> int:
        fresh(tasks)
        if payload.n % 2:
            tasks.add(ran.append, f"body-{payload.n}")
        return payload.n

    @app.get("/keep")  # the handler keeps the object
    def keep(n: int, tasks: BackgroundTasks) -> int:
        fresh(tasks)
        kept.append(tasks)
        return n

    @app.get("/keep-request")  # the handler keeps the request, which holds the object
    async def keep_request(n: int, request: Request, tasks: BackgroundTasks) -> int:
        fresh(tasks)
        kept.append(request)
        return n

    @app.get("/dependency")  # a dependency stores the object the handler shares
    def dependency(n: int, tasks: BackgroundTasks, at: Annotated[int, Depends(stored)]) -> int:
        assert kept[at - 1] is tasks
        return n

    return app


def test_no_reused_tasks_object_carries_tasks_or_reaches_a_kept_reference(
    make_client: MakeClient,
) -> None:
    ran: list[str] = []
    sizes: list[int] = []
    kept: list[Any] = []
    paths = [
        "/direct/2",
        "/query?n=2",
        "/keep?n=0",
        "/query?n=3",
        "/aquery?n=4",
        "/keep-request?n=0",
        "/direct/5",
        "/dependency?n=0",
        "/aquery?n=7",
        "/query?n=8",
        "/direct/8",
    ]
    with make_client(_reuse_app(ran, sizes, kept)) as client:
        for path in paths:
            assert client.get(path).status_code == 200
        assert client.post("/body", json={"n": 9}).status_code == 200
        assert client.post("/body", json={"n": 10}).status_code == 200
        for holder in kept:  # after their requests: must reach no other request
            tasks = holder.background if isinstance(holder, Request) else holder
            if tasks is not None:
                tasks.add(ran.append, "late")
        for path in paths:
            assert client.get(path).status_code == 200
        assert client.post("/body", json={"n": 11}).status_code == 200
    once = ["query-3", "direct-5", "aquery-7"]
    assert ran == [*once, "body-9", *once, "body-11"]
    assert sizes == [0] * len(sizes)
    assert len(sizes) == 2 * len(paths) + 3


def _concurrent_app(barrier: threading.Barrier | None, gate: asyncio.Event | None) -> App:
    """Routes whose requests all hold their tasks at once, each checking it sees only its own."""
    app = App()
    arrived: list[int] = []

    def check(tasks: BackgroundTasks, n: int) -> None:
        assert [args for _, args, _ in tasks.pending] == [(f"task-{n}",)], tasks.pending

    @app.get("/sync/{n}")
    def sync_direct(n: int, tasks: BackgroundTasks) -> int:
        assert len(tasks) == 0
        tasks.add(str, f"task-{n}")
        if barrier is not None:
            barrier.wait()
        check(tasks, n)
        return n

    @app.get("/sync")
    def sync_extracted(n: int, tasks: BackgroundTasks) -> int:
        return sync_direct(n, tasks)

    @app.get("/idle")
    def idle(n: int, tasks: BackgroundTasks) -> int:
        assert len(tasks) == 0
        return n

    @app.get("/async")
    async def async_extracted(n: int, tasks: BackgroundTasks) -> int:
        assert len(tasks) == 0
        tasks.add(str, f"task-{n}")
        arrived.append(n)
        if gate is not None:
            if len(arrived) % CONCURRENT == 0:  # the last of this round has arrived
                gate.set()
            await gate.wait()
        check(tasks, n)
        return n

    return app


def _get(path: str) -> dict[str, Any]:
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }


def test_wsgi_requests_on_threads_never_share_a_tasks_object() -> None:
    barrier = threading.Barrier(CONCURRENT, timeout=10)
    app = _concurrent_app(barrier, None)
    statuses: list[str] = []

    def serve(path: str) -> None:
        body = app.wsgi(_get(path), lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        close = getattr(body, "close", None)
        if close is not None:  # the server's part: runs the tasks
            close()

    serve("/idle?n=0")  # the app starts, and leaves a spare object behind
    for _round in range(3):
        paths = [f"/sync/{n}" if n % 2 else f"/sync?n={n}" for n in range(CONCURRENT)]
        threads = [threading.Thread(target=serve, args=(path,)) for path in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        barrier.reset()
        serve("/idle?n=0")
    assert statuses == ["200 OK"] * (3 * CONCURRENT + 4)


def test_asgi_requests_in_flight_together_never_share_a_tasks_object() -> None:
    async def run() -> list[int]:
        gate = asyncio.Event()
        app = _concurrent_app(threading.Barrier(CONCURRENT, timeout=10), gate)
        statuses: list[int] = []

        async def one(path: str) -> None:
            path, _, query = path.partition("?")
            scope = {
                "type": "http",
                "method": "GET",
                "path": path,
                "query_string": query.encode(),
                "headers": [],
            }

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b""}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            await app.asgi(scope, receive, send)

        await one("/idle?n=0")  # the app starts, and leaves a spare object behind
        for _round in range(3):
            gate.clear()
            await asyncio.gather(*(one(f"/async?n={n}") for n in range(CONCURRENT)))
            # sync handlers on pool threads, all waiting for each other
            await asyncio.gather(
                *(one(f"/sync/{n}" if n % 2 else f"/sync?n={n}") for n in range(CONCURRENT))
            )
        app.thread_pool.shutdown()
        return statuses

    assert asyncio.run(run()) == [200] * (6 * CONCURRENT + 1)
