"""App(lifespan=...): state yielded once per worker, AppState parameters, 503 until started."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest

from duoweb import App, AppState, Depends, LifespanError
from duoweb.testing import TestClient
from tests.conftest import MakeClient


@dataclass
class State:
    """What the test lifespans yield."""

    events: list[str] = field(default_factory=list)
    closed: bool = False


def _sync_lifespan(events: list[str]) -> Any:
    @contextmanager
    def lifespan(app: App) -> Iterator[State]:
        state = State(events)
        events.append("enter")
        yield state
        state.closed = True
        events.append("exit")

    return lifespan


def _async_lifespan(events: list[str]) -> Any:
    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[State]:
        await asyncio.sleep(0)
        state = State(events)
        events.append("enter")
        yield state
        await asyncio.sleep(0)
        state.closed = True
        events.append("exit")

    return lifespan


LIFESPANS = [_sync_lifespan, _async_lifespan]


@pytest.mark.parametrize("make_lifespan", LIFESPANS, ids=["contextmanager", "async"])
def test_state_reaches_handlers_and_providers(make_client: MakeClient, make_lifespan: Any) -> None:
    events: list[str] = []
    app = App(lifespan=make_lifespan(events))

    def count(state: AppState[State]) -> int:
        return len(state.events)

    async def acount(state: AppState[State]) -> int:
        return len(state.events)

    @app.get("/sync/{n}")
    def sync_handler(n: int, state: AppState[State]) -> list[str]:
        return [*state.events, str(n)]

    @app.get("/async")
    async def async_handler(
        state: AppState[State],
        counted: Annotated[int, Depends(count)],
        acounted: Annotated[int, Depends(acount)],
    ) -> list[Any]:
        return [state.closed, counted, acounted]

    @app.get("/inline", inline=True)
    def inline_handler(state: AppState[State]) -> bool:
        return state is app.state

    with make_client(app) as client:
        assert client.get("/sync/1").json() == ["enter", "1"]
        assert client.get("/async").json() == [False, 1, 1]
        assert client.get("/inline").json() is True
        assert events == ["enter"]  # once, not per request
        state = app.state
    assert events == ["enter", "exit"]
    assert state.closed
    assert app.state is None


def test_bare_generator_functions_are_taken_as_context_managers(make_client: MakeClient) -> None:
    def lifespan(app: App) -> Iterator[str]:
        yield "plain"

    app = App(lifespan=lifespan)

    @app.get("/")
    def index(state: AppState[str]) -> str:
        return state

    with make_client(app) as client:
        assert client.get("/").json() == "plain"


def test_lifespan_runs_before_startup_hooks_and_exits_after_shutdown_hooks(
    make_client: MakeClient,
) -> None:
    events: list[str] = []
    app = App(lifespan=_sync_lifespan(events))

    @app.on_startup
    def started() -> None:
        events.append(f"startup hook sees {app.state.events[0]}")

    @app.on_shutdown
    async def stopping() -> None:
        events.append("shutdown hook")

    with make_client(app):
        pass
    assert events == ["enter", "startup hook sees enter", "shutdown hook", "exit"]


def test_a_failing_startup_hook_exits_the_lifespan(make_client: MakeClient) -> None:
    events: list[str] = []
    app = App(lifespan=_sync_lifespan(events))

    @app.on_startup
    def broken() -> None:
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError), make_client(app):
        pass
    assert events == ["enter", "exit"]


def test_app_state_without_a_lifespan_is_a_registration_error() -> None:
    app = App()
    with pytest.raises(LifespanError, match="no lifespan"):

        @app.get("/")
        def index(state: AppState[State]) -> None: ...

    def provider(state: AppState[State]) -> int:
        return 1

    with pytest.raises(LifespanError, match=r"App\(lifespan=\.\.\.\)"):

        @app.get("/p")
        def with_provider(value: Annotated[int, Depends(provider)]) -> int:
            return value


def test_app_state_through_an_override_is_checked_at_startup(make_client: MakeClient) -> None:
    app = App()

    def real() -> int:
        return 1

    def fake(state: AppState[State]) -> int:
        return 2

    @app.get("/")
    def index(value: Annotated[int, Depends(real)]) -> int:
        return value

    app.dependency_overrides[real] = fake
    client = make_client(app)
    with pytest.raises((LifespanError, RuntimeError)):
        client.start()


def _failing_app(calls: list[int]) -> App:
    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        calls.append(1)
        raise ConnectionError("database unreachable")
        yield

    app = App(lifespan=lifespan)

    @app.get("/")
    def index() -> str:
        return "never"

    return app


def test_a_failed_startup_answers_503_and_logs_once(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    client = make_client(_failing_app(calls))  # not entered: as a server without lifespan support
    with caplog.at_level(logging.ERROR, "duoweb"):
        answers = [client.get("/") for _ in range(3)]
    for response in answers:
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "The application failed to start."
    assert calls == [1]  # tried once, not per request
    logged = [r for r in caplog.records if "startup failed" in r.getMessage()]
    assert len(logged) == 1


def test_asgi_lifespan_failure_is_reported_to_the_server_and_requests_get_503() -> None:
    calls: list[int] = []
    client = TestClient(_failing_app(calls), "asgi")
    with pytest.raises(RuntimeError, match=r"lifespan\.startup failed"):
        client.start()
    assert client.get("/").status_code == 503
    assert calls == [1]


def _slow_starting_client(
    entered: threading.Event, release: threading.Event, startup_wait: float
) -> TestClient:
    """A WSGI client of an app whose lifespan signals ``entered``, then waits for ``release``."""

    @contextmanager
    def lifespan(app: App) -> Iterator[str]:
        entered.set()
        release.wait(10)
        yield "ready"

    app = App(lifespan=lifespan, startup_wait=startup_wait)

    @app.get("/")
    def index(state: AppState[str]) -> str:
        return state

    return TestClient(app, "wsgi")


def test_a_request_during_startup_waits_for_it_wsgi() -> None:
    """A threaded WSGI server's second request waits for the first one's startup."""
    release = threading.Event()
    entered = threading.Event()
    client = _slow_starting_client(entered, release, startup_wait=30.0)
    answers: list[Any] = []
    starter = threading.Thread(target=lambda: answers.append(client.get("/")))
    starter.start()
    assert entered.wait(10)
    waiter = threading.Thread(target=lambda: answers.append(client.get("/")))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # waiting for the startup, not answered 503
    release.set()
    starter.join(10)
    waiter.join(10)
    assert [answer.json() for answer in answers] == ["ready", "ready"]
    client.stop()


def test_requests_during_a_long_startup_get_503_with_retry_after_wsgi() -> None:
    release = threading.Event()
    entered = threading.Event()
    client = _slow_starting_client(entered, release, startup_wait=0.05)
    first: list[Any] = []
    starter = threading.Thread(target=lambda: first.append(client.get("/")))
    starter.start()
    assert entered.wait(10)
    waiting = client.get("/")
    release.set()
    starter.join(10)
    assert waiting.status_code == 503
    assert waiting.headers["retry-after"] == "1"
    assert "starting" in waiting.json()["detail"]
    assert first[0].json() == "ready"
    assert client.get("/").json() == "ready"
    client.stop()


def test_requests_during_startup_get_503_with_retry_after_asgi() -> None:
    release = asyncio.Event()

    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[str]:
        await release.wait()
        yield "ready"

    app = App(lifespan=lifespan)

    @app.get("/")
    def index(state: AppState[str]) -> str:
        return state

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}

    async def scenario() -> None:
        first = asyncio.ensure_future(app.asgi(scope, receive, send))
        await asyncio.sleep(0.01)  # the first request is now starting the app
        await app.asgi(dict(scope), receive, send)  # answered at once: 503
        assert sent[0]["status"] == 503
        assert (b"retry-after", b"1") in sent[0]["headers"]
        release.set()
        await first
        assert sent[2]["status"] == 200

    asyncio.run(scenario())
    app.thread_pool.shutdown()


def test_websocket_handlers_get_the_state() -> None:
    from duoweb import WebSocket

    app = App(lifespan=_sync_lifespan([]))

    @app.websocket("/ws")
    async def chat(ws: WebSocket, state: AppState[State]) -> None:
        await ws.accept()
        await ws.send_json(state.events)

    with TestClient(app, "asgi") as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_json() == ["enter"]


def test_lifespan_must_return_a_context_manager(make_client: MakeClient) -> None:
    app = App(lifespan=lambda app: 42)  # type: ignore[arg-type,return-value]
    with pytest.raises((LifespanError, RuntimeError), match="not a context manager"):
        make_client(app).start()
