"""Startup/shutdown hooks and the sync/async execution model, in both modes."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
from typing import Any

import pytest

from duoweb import App
from duoweb.testing import TestClient
from tests.conftest import MakeClient


def test_hooks_run_once_around_serving(make_client: MakeClient) -> None:
    events: list[str] = []
    app = App()

    @app.on_startup
    def sync_start() -> None:
        events.append("sync start")

    @app.on_startup
    async def async_start() -> None:
        await asyncio.sleep(0)
        events.append("async start")

    @app.on_shutdown
    async def async_stop() -> None:
        events.append("async stop")

    @app.on_shutdown
    def sync_stop() -> None:
        events.append("sync stop")

    @app.get("/")
    def index() -> list[str]:
        return list(events)

    with make_client(app) as client:
        assert client.get("/").json() == ["sync start", "async start"]
        assert client.get("/").json() == ["sync start", "async start"]
    assert events == ["sync start", "async start", "async stop", "sync stop"]


def test_failing_shutdown_hook_does_not_skip_the_others(make_client: MakeClient) -> None:
    events: list[str] = []
    app = App()

    @app.on_shutdown
    def broken() -> None:
        raise RuntimeError("shutdown failed")

    @app.on_shutdown
    def after() -> None:
        events.append("after")

    with make_client(app):
        pass
    assert events == ["after"]


def test_failing_asgi_startup_is_reported_through_lifespan() -> None:
    app = App()

    @app.on_startup
    def broken() -> None:
        raise RuntimeError("no database")

    client = TestClient(app, "asgi")
    with pytest.raises(RuntimeError, match="no database"):
        client.start()


def test_failing_wsgi_startup_answers_503() -> None:
    app = App()

    @app.on_startup
    def broken() -> None:
        raise RuntimeError("no database")

    @app.get("/")
    def index() -> str:
        return "unreachable"

    response = TestClient(app, "wsgi").get("/")
    assert response.status_code == 503
    assert "no database" not in response.text


def test_a_wsgi_request_during_shutdown_does_not_start_the_app_again() -> None:
    """A threaded server's request arriving while stop() runs the hooks is served, once."""
    app = App()
    events: list[str] = []
    answers: list[int] = []

    @app.on_startup
    def started() -> None:
        events.append("startup")

    @app.on_shutdown
    def stopping() -> None:
        events.append("shutdown")
        worker = threading.Thread(target=lambda: answers.append(client.get("/").status_code))
        worker.start()
        worker.join(10)
        assert not worker.is_alive()

    @app.get("/")
    def index() -> str:
        return "served"

    client = TestClient(app, "wsgi")
    assert client.get("/").status_code == 200
    app.wsgi.stop()
    assert events == ["startup", "shutdown"]  # the request in between started nothing
    assert answers == [200]
    assert not app.wsgi.started
    app.wsgi.stop()  # a second stop runs no hook
    assert events == ["startup", "shutdown"]


def test_wsgi_async_handlers_share_one_loop_per_thread() -> None:
    app = App()

    @app.get("/loop")
    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    with TestClient(app, "wsgi") as client:
        first = client.get("/loop").json()
        assert client.get("/loop").json() == first
        seen: list[Any] = []
        worker = threading.Thread(target=lambda: seen.append(client.get("/loop").json()))
        worker.start()
        worker.join()
        assert seen[0] != first


def test_asgi_sync_handlers_run_in_the_pool_unless_inline() -> None:
    app = App(thread_pool_size=2)
    loop_thread: list[int] = []

    @app.on_startup
    async def remember_loop_thread() -> None:
        loop_thread.append(threading.get_ident())

    @app.get("/pooled")
    def pooled() -> str:
        return threading.current_thread().name

    @app.get("/inline", inline=True)
    def inline() -> int:
        return threading.get_ident()

    with TestClient(app, "asgi") as client:
        assert client.get("/pooled").json().startswith("duoweb-sync")
        assert client.get("/inline").json() == loop_thread[0]


def test_contextvars_reach_pooled_sync_handlers() -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
    app = App()

    @app.on_startup
    async def set_marker() -> None:
        marker.set("from lifespan")

    @app.get("/m")
    def read_marker() -> str:
        return marker.get()

    with TestClient(app, "asgi") as client:
        # Each request has its own context; the value set in the pool never leaks back.
        assert client.get("/m").json() == "unset"


def test_startup_runs_lazily_without_lifespan(mode: str) -> None:
    events: list[str] = []
    app = App()

    @app.on_startup
    def start() -> None:
        events.append("start")

    @app.get("/")
    def index() -> int:
        return len(events)

    client = TestClient(app, "wsgi" if mode == "wsgi" else "asgi")
    try:
        assert client.get("/").json() == 1
        assert client.get("/").json() == 1
    finally:
        client.close()  # no `with`: that would run the lifespan startup this test avoids


def test_an_asgi_client_dropped_without_closing_releases_its_event_loop() -> None:
    """A client used without ``with`` or close() must not leak its loop (and self-pipe)."""
    app = App()
    loops: list[asyncio.AbstractEventLoop] = []

    @app.get("/")
    async def index() -> str:
        loops.append(asyncio.get_running_loop())
        return "ok"

    client = TestClient(app, "asgi")
    assert client.get("/").json() == "ok"
    del client
    gc.collect()
    assert len(loops) == 1
    assert loops[0].is_closed()
