"""Drive a WSGI or ASGI callable directly, without a server, with one prepared request.

The request is built once; each call only copies it (a fresh environ dict and input stream, a
fresh scope dict and receive channel), so the timed loop costs the same for every contender
of a mode and nearly all of it is the app's own work.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from benchmarks.spec import Probe

Response = tuple[int, list[tuple[str, str]], bytes]


def _status_code(status: str) -> int:
    return int(status.split(" ", 1)[0])


class WSGIDriver:
    """Calls a PEP 3333 app with copies of a prepared environ."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def prepare(self, probe: Probe) -> tuple[dict[str, Any], bytes]:
        """The environ template (all but ``wsgi.input``) and body of ``probe``."""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": probe.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(probe.path, "latin-1"),
            "QUERY_STRING": probe.query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in probe.headers():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = value
        return environ, probe.body

    def start(self) -> None:
        """Nothing to start: WSGI has no lifespan."""

    def stop(self) -> None:
        """Nothing to stop."""

    def call_once(self, request: tuple[dict[str, Any], bytes]) -> Response:
        """Send a prepared request once and capture status, headers and body."""
        template, body = request
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        environ = template.copy()
        environ["wsgi.input"] = io.BytesIO(body)
        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return _status_code(captured["status"]), list(captured["headers"]), content

    def timed(self, request: tuple[dict[str, Any], bytes], n: int) -> tuple[float, float]:
        """Send a prepared request ``n`` times; return (wall, CPU) seconds elapsed."""
        app = self.app
        copy = request[0].copy
        body = request[1]
        new_input = io.BytesIO

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            return None

        cpu = time.process_time()
        start = time.perf_counter()
        for _ in range(n):
            environ = copy()
            environ["wsgi.input"] = new_input(body)
            result = app(environ, start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return time.perf_counter() - start, time.process_time() - cpu


class _Exchange:
    """The receive/send pair of one ASGI request: the body once, then wait for disconnect."""

    __slots__ = ("body", "delivered", "finished", "waiter")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.delivered = False
        self.finished = False
        self.waiter: asyncio.Future[None] | None = None

    async def receive(self) -> dict[str, Any]:
        if not self.delivered:
            self.delivered = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        if not self.finished:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)


class ASGIDriver:
    """Calls an ASGI 3 app with copies of a prepared scope, all on one event loop."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.state: dict[str, Any] = {}
        self._lifespan: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[dict[str, Any]] | None = None
        self._from_app: asyncio.Queue[dict[str, Any]] | None = None

    def prepare(self, probe: Probe) -> tuple[dict[str, Any], bytes]:
        """The scope template and body of ``probe``."""
        headers = [(b"host", b"127.0.0.1:8000")] + [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in probe.headers()
        ]
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": probe.method,
            "scheme": "http",
            "path": unquote(probe.path),
            "raw_path": probe.path.encode("latin-1"),
            "query_string": probe.query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "extensions": {},
        }
        return scope, probe.body

    def start(self) -> None:
        """Run the lifespan startup, if the app speaks lifespan (its failure is tolerated)."""
        self.loop.run_until_complete(self._startup())

    def stop(self) -> None:
        """Run the lifespan shutdown and close the loop."""
        try:
            self.loop.run_until_complete(self._shutdown())
        finally:
            self.loop.close()

    async def _startup(self) -> None:
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self._lifespan = asyncio.ensure_future(
            self.app(scope, self._to_app.get, self._from_app.put)
        )
        await self._to_app.put({"type": "lifespan.startup"})
        reply = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait({reply, self._lifespan}, return_when=asyncio.FIRST_COMPLETED)
        if reply in done:
            message = reply.result()
            if message["type"] == "lifespan.startup.failed":
                raise RuntimeError(f"lifespan startup failed: {message.get('message')}")
        else:  # the app does not do lifespan: it returned or raised right away
            reply.cancel()
            self._lifespan = None

    async def _shutdown(self) -> None:
        if self._lifespan is None or self._to_app is None or self._from_app is None:
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._from_app.get(), timeout=5)
        finally:
            self._lifespan.cancel()

    def _new_scope(self, template: dict[str, Any]) -> dict[str, Any]:
        scope = template.copy()
        scope["headers"] = list(template["headers"])
        scope["state"] = self.state.copy()
        return scope

    def call_once(self, request: tuple[dict[str, Any], bytes]) -> Response:
        """Send a prepared request once and capture status, headers and body."""
        template, body = request
        messages: list[dict[str, Any]] = []
        exchange = _Exchange(body)

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)
            await exchange.send(message)

        self.loop.run_until_complete(self.app(self._new_scope(template), exchange.receive, send))
        start = next(m for m in messages if m["type"] == "http.response.start")
        headers = [
            (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
            for k, v in start.get("headers", [])
        ]
        content = b"".join(
            m.get("body", b"") for m in messages if m["type"] == "http.response.body"
        )
        return start["status"], headers, content

    def timed(self, request: tuple[dict[str, Any], bytes], n: int) -> tuple[float, float]:
        """Send a prepared request ``n`` times; return (wall, CPU) seconds elapsed."""
        return self.loop.run_until_complete(self._timed(request, n))

    async def _timed(self, request: tuple[dict[str, Any], bytes], n: int) -> tuple[float, float]:
        app = self.app
        template, body = request
        new_scope = self._new_scope
        cpu = time.process_time()
        start = time.perf_counter()
        for _ in range(n):
            exchange = _Exchange(body)
            await app(new_scope(template), exchange.receive, exchange.send)
        return time.perf_counter() - start, time.process_time() - cpu


def make_driver(mode: str, app: Any) -> WSGIDriver | ASGIDriver:
    """The in-process driver for ``mode`` ("wsgi" or "asgi")."""
    if mode == "wsgi":
        return WSGIDriver(app)
    if mode == "asgi":
        return ASGIDriver(app)
    raise ValueError(f"unknown mode {mode!r}")
