"""A client that goes away mid-response: the body's cleanup runs, once, without errors.

In-process and deterministic; test_wire.py checks the same against real servers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from duoweb import App, StreamingResponse
from tests.robustness.inprocess import RawRequest, environ_for, scope_for


def build_app(events: list[str], gate: threading.Event, stepping: threading.Event) -> App:
    app = App(openapi_url=None, docs_url=None, disconnect_grace=0.05)

    @app.get("/sync")
    def sync_stream() -> StreamingResponse:
        def body() -> Iterator[bytes]:
            try:
                yield b"first"
                stepping.set()
                gate.wait(5)  # the client leaves while this runs in a pool thread
                yield b"second"
                yield b"third"
            finally:
                events.append("closed")

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/async")
    async def async_stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            try:
                yield b"first"
                await asyncio.sleep(5)
                yield b"second"
            finally:
                events.append("closed")

        return StreamingResponse(body(), media_type="text/plain")

    return app


def _asgi_disconnect_mid_step(
    app: App, path: bytes, gate: threading.Event, stepping: threading.Event | None
) -> None:
    """Serve ``path``; disconnect once the first chunk went out and the next step is running."""

    async def run() -> None:
        first_chunk = asyncio.Event()
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await first_chunk.wait()
            if stepping is not None:  # the generator is inside next(), in a pool thread
                await asyncio.get_running_loop().run_in_executor(None, stepping.wait, 5)
            # Let the blocked generator step finish shortly after the disconnect.
            asyncio.get_running_loop().call_later(0.2, gate.set)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                first_chunk.set()

        await asyncio.wait_for(app.asgi(scope_for(RawRequest(target=path)), receive, send), 10)

    try:
        asyncio.run(run())
    finally:
        gate.set()  # never leave a pool thread blocked behind the test


def test_asgi_disconnect_closes_an_async_generator(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="duoweb")
    events: list[str] = []
    gate = threading.Event()
    _asgi_disconnect_mid_step(build_app(events, gate, threading.Event()), b"/async", gate, None)
    assert events == ["closed"]
    assert "streaming response failed" not in caplog.text


def test_asgi_disconnect_closes_a_sync_generator_mid_step(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="duoweb")
    events: list[str] = []
    gate, stepping = threading.Event(), threading.Event()
    _asgi_disconnect_mid_step(build_app(events, gate, stepping), b"/sync", gate, stepping)
    assert "streaming response failed" not in caplog.text
    assert events == ["closed"]  # closed by the adapter before it returned


@pytest.mark.parametrize("path", [b"/sync", b"/async"])
def test_wsgi_server_closing_the_body_early_runs_the_cleanup(path: bytes) -> None:
    """What Gunicorn does when a write fails: stop iterating, then call close()."""
    events: list[str] = []
    gate = threading.Event()
    gate.set()
    app = build_app(events, gate, threading.Event())
    result = app.wsgi(environ_for(RawRequest(target=path)), lambda *args: None)
    iterator = iter(result)
    assert next(iterator) == b"first"
    result.close()  # type: ignore[attr-defined]
    assert events == ["closed"]
