"""BackgroundTasks: run after the response, in order, isolated from failures, in both modes."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from duoweb import App, BackgroundTasks, Depends, HTTPError, Request, Response, StreamingResponse
from duoweb.testing import TestClient
from tests.conftest import MakeClient


def _tasks_app(events: list[Any]) -> App:
    """Routes taking BackgroundTasks in every shape the dispatcher plans differently."""
    app = App()

    def record(*args: Any, **kwargs: Any) -> None:
        events.append(("sync", args, kwargs, threading.current_thread().name))

    async def arecord(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        events.append(("async", args, kwargs))

    @app.get("/direct/{n}")  # path parameters only: the compiled path's direct call
    def direct(n: int, tasks: BackgroundTasks) -> int:
        tasks.add(record, n, key="direct")
        tasks.add(arecord, n)
        return n

    @app.get("/inline/{n}", inline=True)
    def inline(n: int, tasks: BackgroundTasks) -> int:
        tasks.add(record, n, key="inline")
        return n

    @app.get("/query")  # extracted arguments
    def query(n: int, tasks: BackgroundTasks) -> int:
        tasks.add(record, n, key="query")
        return n

    @app.post("/async/{n}")
    async def with_body(n: int, request: Request, tasks: BackgroundTasks) -> int:
        tasks.add(arecord, n, body=request.body)
        tasks.add(record, n, key="async")
        return n

    @app.get("/none/{n}")
    def none(n: int, tasks: BackgroundTasks) -> int:
        return n

    return app


def test_tasks_run_in_order_with_their_arguments(make_client: MakeClient) -> None:
    events: list[Any] = []
    with make_client(_tasks_app(events)) as client:
        assert client.get("/direct/1").json() == 1
        # The test client returns once the tasks ran: their effects can be asserted.
        assert [e[:3] for e in events] == [("sync", (1,), {"key": "direct"}), ("async", (1,), {})]
        events.clear()
        assert client.get("/inline/2").json() == 2
        assert client.get("/query?n=3").json() == 3
        assert client.post("/async/4", content=b"hi").json() == 4
        assert client.get("/none/5").json() == 5
    assert [e[:3] for e in events] == [
        ("sync", (2,), {"key": "inline"}),
        ("sync", (3,), {"key": "query"}),
        ("async", (4,), {"body": b"hi"}),
        ("sync", (4,), {"key": "async"}),
    ]


@pytest.mark.parametrize("count", [0, 2, 8, 9], ids=lambda n: f"{n}-path-params")
@pytest.mark.parametrize("adds", [False, True], ids=["adds-none", "adds-one"])
def test_direct_handlers_get_every_path_parameter_and_the_tasks(
    make_client: MakeClient, count: int, adds: bool
) -> None:
    """The dispatchers call these handlers themselves, by name: each argument reaches its
    parameter whatever the signature's order, with up to 8 names from the C stack and more
    through a dict, in the compiled twin."""
    events: list[Any] = []
    app = App()
    names = [f"p{i}" for i in range(count)]
    template = "/many" + "".join(f"/{{{name}}}" for name in names)
    namespace: dict[str, Any] = {}
    # The tasks parameter goes in the middle: the call is by name, not by position.
    params = ", ".join([*(f"{n}: int" for n in names[: count // 2]), "tasks: BackgroundTasks"])
    params += "".join(f", {n}: int" for n in names[count // 2 :])
    exec(  # a signature of ``count`` path parameters, which no literal def can vary
        f"def handler({params}) -> list[int]:\n"
        f"    if adds:\n"
        f"        tasks.add(events.append, [{', '.join(names)}])\n"
        f"    return [{', '.join(names)}]\n",
        {"BackgroundTasks": BackgroundTasks, "adds": adds, "events": events},
        namespace,
    )
    app.get(template, inline=True)(namespace["handler"])
    values = [7 * i + 1 for i in range(count)]
    with make_client(app) as client:
        response = client.get("/many" + "".join(f"/{v}" for v in values))
    assert response.status_code == 200
    assert response.json() == values
    assert events == ([values] if adds else [])


def test_an_unused_tasks_object_never_carries_tasks_into_another_request(
    make_client: MakeClient,
) -> None:
    """The compiled twin reuses a BackgroundTasks a direct call left empty and no one kept:
    every handler still gets an empty one, each task runs once, and an object a handler kept
    reaches no later request."""
    ran: list[str] = []
    sizes: list[int] = []
    kept: list[BackgroundTasks] = []
    app = App()

    @app.get("/add/{n}", inline=True)
    def add(n: int, tasks: BackgroundTasks) -> int:
        sizes.append(len(tasks))
        tasks.add(ran.append, f"add-{n}")
        return n

    @app.get("/skip/{n}", inline=True)
    def skip(n: int, tasks: BackgroundTasks) -> int:
        sizes.append(len(tasks))
        return n

    @app.get("/keep/{n}", inline=True)
    def keep(n: int, tasks: BackgroundTasks) -> int:
        sizes.append(len(tasks))
        kept.append(tasks)
        return n

    @app.get("/alone", inline=True)  # the tasks are the only parameter: passed by position
    def alone(tasks: BackgroundTasks) -> int:
        sizes.append(len(tasks))
        return 0

    @app.get("/keyword", inline=True)  # ...unless that parameter is keyword-only
    def keyword(*, tasks: BackgroundTasks) -> int:
        sizes.append(len(tasks))
        tasks.add(ran.append, "keyword")
        return 0

    first = ["skip/1", "add/2", "alone", "skip/4", "add/5", "keep/6", "skip/7", "keyword"]
    then = ["skip/11", "alone", "add/12", "keep/16", "keyword", "skip/17", "add/18", "alone"]
    with make_client(app) as client:
        for path in first:
            assert client.get(f"/{path}").status_code == 200
        for tasks in kept:  # after their requests: these must reach no other one
            tasks.add(ran.append, "late")
        for path in then:
            assert client.get(f"/{path}").status_code == 200
    assert ran == ["add-2", "add-5", "keyword", "add-12", "keyword", "add-18"]
    assert sizes == [0] * 16
    assert len({id(tasks) for tasks in kept}) == len(kept) == 2


def test_sync_tasks_run_off_the_event_loop_under_asgi() -> None:
    events: list[Any] = []
    with TestClient(_tasks_app(events), "asgi") as client:
        client.get("/inline/1")
    assert events[0][3].startswith("duoweb-sync")  # the thread pool, not the loop's thread


def test_tasks_run_after_the_whole_response_is_sent(make_client: MakeClient) -> None:
    events: list[str] = []
    app = App()

    def chunks() -> Iterator[bytes]:
        events.append("chunk 1")
        yield b"a"
        events.append("chunk 2")
        yield b"b"

    @app.get("/stream")
    def stream(tasks: BackgroundTasks) -> StreamingResponse:
        tasks.add(events.append, "task")
        return StreamingResponse(chunks(), media_type="text/plain")

    with make_client(app) as client:
        assert client.get("/stream").content == b"ab"
    assert events == ["chunk 1", "chunk 2", "task"]


def test_wsgi_tasks_wait_for_the_server_to_close_the_body() -> None:
    events: list[Any] = []
    app = _tasks_app(events)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/direct/7",
        "QUERY_STRING": "",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    body = app.wsgi(environ, lambda status, headers, exc_info=None: None)
    assert b"".join(body) == b"7"
    assert events == []  # sent, but the server has not closed the response yet
    body.close()  # type: ignore[attr-defined]
    assert [e[:2] for e in events] == [("sync", (7,)), ("async", (7,))]


def test_a_failing_task_is_logged_and_the_next_one_runs(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[str] = []
    app = App()

    def broken() -> None:
        raise RuntimeError("mail server down")

    async def abroken() -> None:
        raise ValueError("queue down")

    @app.get("/")
    def index(tasks: BackgroundTasks) -> str:
        tasks.add(broken)
        tasks.add(events.append, "after broken")
        tasks.add(abroken)
        tasks.add(events.append, "after abroken")
        return "ok"

    with make_client(app) as client, caplog.at_level(logging.ERROR, "duoweb"):
        response = client.get("/")
    assert response.status_code == 200
    assert response.json() == "ok"
    assert events == ["after broken", "after abroken"]
    failures = [r.getMessage() for r in caplog.records if "background task" in r.getMessage()]
    assert len(failures) == 2
    assert "broken" in failures[0]
    assert "failed" in failures[0]
    assert "abroken" in failures[1]


@pytest.mark.parametrize("path", ["/fails/1", "/afails/1"])
def test_a_failing_handler_drops_its_tasks(make_client: MakeClient, path: str) -> None:
    events: list[str] = []
    app = App()

    @app.get("/fails/{n}")
    def fails(n: int, tasks: BackgroundTasks) -> int:
        tasks.add(events.append, "should not run")
        raise HTTPError(409, "conflict")

    @app.get("/afails/{n}")
    async def afails(n: int, tasks: BackgroundTasks) -> int:
        tasks.add(events.append, "should not run")
        raise RuntimeError("boom")

    with make_client(app) as client:
        assert client.get(path).status_code in (409, 500)
        assert events == []


def test_dependencies_and_handler_share_the_tasks(make_client: MakeClient) -> None:
    events: list[str] = []
    app = App()

    def audit(tasks: BackgroundTasks) -> str:
        tasks.add(events.append, "audit")
        return "who"

    @app.get("/")
    async def index(who: Annotated[str, Depends(audit)], tasks: BackgroundTasks) -> str:
        tasks.add(events.append, "handler")
        return who

    with make_client(app) as client:
        assert client.get("/").json() == "who"
    assert events == ["audit", "handler"]


def test_generator_dependency_cleanup_runs_before_the_tasks(make_client: MakeClient) -> None:
    """The documented order: dependency cleanup, then the response is sent, then the tasks."""
    events: list[str] = []
    app = App()

    def session() -> Iterator[str]:
        events.append("session open")
        yield "session"
        events.append("session closed")

    async def asession() -> AsyncIterator[str]:
        yield "asession"
        events.append("asession closed")

    def chunks() -> Iterator[bytes]:
        events.append("body sent")
        yield b"x"

    @app.get("/")
    def index(
        s: Annotated[str, Depends(session)],
        a: Annotated[str, Depends(asession)],
        tasks: BackgroundTasks,
    ) -> StreamingResponse:
        def task(name: str) -> None:
            events.append(f"task sees {name} closed: {'session closed' in events}")

        tasks.add(task, s)
        return StreamingResponse(chunks())

    with make_client(app) as client:
        assert client.get("/").content == b"x"
    assert events == [
        "session open",
        "asession closed",
        "session closed",
        "body sent",
        "task sees session closed: True",
    ]


def test_middleware_sees_the_response_before_the_tasks_run(make_client: MakeClient) -> None:
    events: list[str] = []
    app = App()

    @app.middleware
    def note(request: Request, call_next: Any) -> Response:
        response: Response = call_next(request)
        events.append("middleware")
        return response

    @app.get("/{n}")
    def index(n: int, tasks: BackgroundTasks) -> int:
        tasks.add(events.append, "task")
        return n

    with make_client(app) as client:
        assert client.get("/3").json() == 3
    assert events == ["middleware", "task"]


def test_head_requests_run_tasks_too(make_client: MakeClient) -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    def index(tasks: BackgroundTasks) -> str:
        tasks.add(events.append, "task")
        return "x"

    with make_client(app) as client:
        assert client.head("/").content == b""
    assert events == ["task"]


def test_add_refuses_what_cannot_be_called() -> None:
    tasks = BackgroundTasks()
    with pytest.raises(TypeError, match="callable"):
        tasks.add("send_mail")  # type: ignore[arg-type]
    assert len(tasks) == 0
    tasks.add(print, "x", sep="")
    assert tasks.pending == [(print, ("x",), {"sep": ""})]
    assert "1 queued" in repr(tasks)


def test_two_tasks_parameters_are_a_registration_error() -> None:
    from duoweb import RouteDefinitionError

    app = App()
    with pytest.raises(RouteDefinitionError, match="both BackgroundTasks"):

        @app.get("/")
        def index(a: BackgroundTasks, b: BackgroundTasks) -> None: ...


def test_websocket_tasks_run_after_the_handler_returns() -> None:
    from duoweb import WebSocket

    events: list[str] = []
    app = App()

    @app.websocket("/ws")
    async def chat(ws: WebSocket, tasks: BackgroundTasks) -> None:
        await ws.accept()
        tasks.add(events.append, "task")
        await ws.send_text(await ws.receive_text())
        events.append("handler done")

    with TestClient(app, "asgi") as client, client.websocket_connect("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
    assert events == ["handler done", "task"]
