"""An in-process test client that drives an App as WSGI or as ASGI with one API (httpx's)."""

from __future__ import annotations

import asyncio
import io
import sys
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote_to_bytes
from wsgiref.validate import validator

import httpx

from duoweb.app import App

Mode = Literal["wsgi", "asgi"]


def _split_target(request: httpx.Request) -> tuple[bytes, bytes]:
    """The raw (percent-encoded) path and query string of ``request``.

    httpx removes ``.``/``..`` segments from URLs; to send a path exactly as written (to test
    hostile paths) pass it as ``extensions={"raw_path": b"/a/../b"}``.
    """
    raw = request.extensions.get("raw_path")
    target = raw if isinstance(raw, bytes) else request.url.raw_path
    path, _, query = target.partition(b"?")
    return path, query


class WSGITransport(httpx.BaseTransport):
    """Calls a WSGI application with an environ built the way a PEP 3333 server builds it."""

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        *,
        client: tuple[str, int] = ("127.0.0.1", 50000),
        script_name: str = "",
        validate: bool = False,
    ) -> None:
        self.wsgi_app = validator(wsgi_app) if validate else wsgi_app
        self.client = client
        self.script_name = script_name

    def build_environ(self, request: httpx.Request, body: bytes) -> dict[str, Any]:
        """The environ a server would pass for ``request``."""
        path, query = _split_target(request)
        url = request.url
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": self.script_name,
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "SERVER_NAME": url.host or "testserver",
            "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.client[0],
            "REMOTE_PORT": str(self.client[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in request.headers.raw:
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
            # Servers join repeated fields with a comma, as RFC 9110 allows.
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", ""):
            environ["wsgi.input_terminated"] = True
        return environ

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the application for one request and collect its whole response."""
        body = request.read()
        environ = self.build_environ(request, body)
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started.append((status, headers))
            return lambda data: None

        result = self.wsgi_app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started[-1]
        return httpx.Response(
            int(status.split(" ", 1)[0]),
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            stream=httpx.ByteStream(content),  # content= would invent a Content-Length
            request=request,
        )


class ASGITransport(httpx.BaseTransport):
    """Calls an ASGI application on an event loop the client owns, one request at a time."""

    def __init__(
        self,
        asgi_app: Callable[..., Any],
        loop: asyncio.AbstractEventLoop,
        *,
        client: tuple[str, int] = ("127.0.0.1", 50000),
        root_path: str = "",
    ) -> None:
        self.asgi_app = asgi_app
        self.loop = loop
        self.client = client
        self.root_path = root_path
        self.state: dict[str, Any] = {}

    def build_scope(self, request: httpx.Request) -> dict[str, Any]:
        """The http scope a server would pass for ``request``."""
        path, query = _split_target(request)
        url = request.url
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": self.root_path + unquote_to_bytes(path).decode("utf-8", "replace"),
            "raw_path": path,
            "query_string": query,
            "root_path": self.root_path,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": self.client,
            "server": (url.host or "testserver", url.port or 80),
            "state": dict(self.state),
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the application for one request and collect its whole response."""
        body = request.read()
        scope = self.build_scope(request)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        done = asyncio.Event()
        body_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        async def run() -> None:
            try:
                await self.asgi_app(scope, receive, send)
            finally:
                done.set()

        if self.loop.is_closed():  # the app failed to start, which released the client's loop
            asyncio.run(run())
        else:
            self.loop.run_until_complete(run())
        if not start:
            raise RuntimeError("the ASGI application sent no response")
        return httpx.Response(
            start["status"],
            headers=list(start.get("headers", [])),
            stream=httpx.ByteStream(b"".join(chunks)),
            request=request,
        )


class WebSocketRejected(Exception):
    """The app refused the WebSocket handshake (closed it before accepting)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"handshake refused with close code {code}")
        self.code = code


class WebSocketSession:
    """An in-process WebSocket connection to an ASGI app, driven from synchronous test code."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        asgi_app: Callable[..., Any],
        scope: dict[str, Any],
        timeout: float,
    ) -> None:
        self._loop = loop
        self._timeout = timeout
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task = loop.create_task(asgi_app(scope, self._to_app.get, self._from_app.put))
        self._put({"type": "websocket.connect"})
        reply = self._get()
        if reply["type"] == "websocket.close":
            self._finish()
            raise WebSocketRejected(reply.get("code", 1000))
        #: The subprotocol the app chose, if any.
        self.subprotocol: str | None = reply.get("subprotocol")
        #: Extra headers the app sent with its accept.
        self.headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in reply.get("headers", [])
        ]
        #: The close code the app sent, once it closed the connection.
        self.close_code: int | None = None

    def _put(self, message: dict[str, Any]) -> None:
        self._loop.run_until_complete(self._to_app.put(message))

    def _get(self) -> dict[str, Any]:
        async def next_message() -> dict[str, Any]:
            getter = asyncio.ensure_future(self._from_app.get())
            await asyncio.wait(
                {getter, self._task}, timeout=self._timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if getter.done():
                return getter.result()
            getter.cancel()
            if self._task.done():
                self._task.result()  # re-raise the app's exception, if any
                return {"type": "websocket.close", "code": 1006}
            raise TimeoutError(f"the app sent nothing within {self._timeout} s")

        return self._loop.run_until_complete(next_message())

    def _receive(self, key: str) -> Any:
        message = self._get()
        if message["type"] == "websocket.close":
            from duoweb.websockets import WebSocketDisconnect

            code: int = message.get("code", 1000)
            self.close_code = code
            raise WebSocketDisconnect(code, message.get("reason") or "")
        return message.get(key)

    def send_text(self, data: str) -> None:
        """Send a text message to the app."""
        self._put({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message to the app."""
        self._put({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text message."""
        import msgspec

        self.send_text(msgspec.json.encode(data).decode())

    def receive_text(self) -> str:
        """The app's next text message (WebSocketDisconnect if it closed instead)."""
        return str(self._receive("text"))

    def receive_bytes(self) -> bytes:
        """The app's next binary message."""
        return bytes(self._receive("bytes"))

    def receive_json(self) -> Any:
        """The app's next message decoded as JSON."""
        import msgspec

        return msgspec.json.decode(self.receive_text())

    def close(self, code: int = 1000) -> None:
        """Disconnect, then wait for the app's handler to finish."""
        if not self._task.done():
            self._put({"type": "websocket.disconnect", "code": code})
        self._finish()

    def _finish(self) -> None:
        self._loop.run_until_complete(asyncio.wait_for(self._task, self._timeout))

    def __enter__(self) -> WebSocketSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class TestClient(httpx.Client):
    """Drive ``app`` in-process as WSGI or ASGI; use it as a context manager to run its hooks.

    ``with TestClient(app, mode="asgi") as client: client.get("/")`` runs the startup hooks
    (through ASGI lifespan, or directly under WSGI), sends requests, then runs the shutdown
    hooks. Every httpx.Client method is available.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: App,
        mode: Mode = "wsgi",
        *,
        base_url: str = "http://testserver",
        client: tuple[str, int] = ("127.0.0.1", 50000),
        root_path: str = "",
        validate_wsgi: bool = False,
        **kwargs: Any,
    ) -> None:
        if mode not in ("wsgi", "asgi"):
            raise ValueError(f"mode must be 'wsgi' or 'asgi', not {mode!r}")
        self.app = app
        self.mode = mode
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lifespan_task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[dict[str, Any]] | None = None
        self._from_app: asyncio.Queue[dict[str, Any]] | None = None
        transport: httpx.BaseTransport
        if mode == "wsgi":
            transport = WSGITransport(
                app.wsgi, client=client, script_name=root_path, validate=validate_wsgi
            )
        else:
            self._loop = asyncio.new_event_loop()
            # A client dropped without ``with`` or close() still releases its loop (no leak).
            weakref.finalize(self, self._loop.close)
            transport = ASGITransport(app.asgi, self._loop, client=client, root_path=root_path)
        super().__init__(transport=transport, base_url=base_url, **kwargs)

    def __enter__(self) -> TestClient:
        super().__enter__()
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            self.stop()
        finally:
            super().__exit__(exc_type, exc_value, traceback)

    def start(self) -> None:
        """Run the app's startup hooks the way the mode's servers do."""
        if self._loop is None:
            self.app.wsgi.start()
            return
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan_task = self._loop.create_task(
            self.app.asgi(scope, self._to_app.get, self._from_app.put)
        )
        try:
            self._lifespan_step("lifespan.startup")
        except BaseException:
            # The app failed to start: nothing more runs on this client's loop.
            self._lifespan_task = None
            self._loop.close()
            raise

    def stop(self) -> None:
        """Run the app's shutdown hooks and release the client's event loop."""
        if self._loop is None:
            self.app.wsgi.stop()
            return
        try:
            if self._lifespan_task is not None:
                self._lifespan_step("lifespan.shutdown")
                self._loop.run_until_complete(self._lifespan_task)
        finally:
            self._lifespan_task = None
            self._loop.close()

    def close(self) -> None:
        """Close the connections and, in ASGI mode, the client's event loop (without ``with``)."""
        super().close()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()

    def websocket_connect(
        self,
        path: str,
        *,
        subprotocols: list[str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> WebSocketSession:
        """Open an in-process WebSocket to ``path`` (ASGI mode only: WSGI has no WebSockets)."""
        if self._loop is None:
            raise RuntimeError("WebSockets need the ASGI mode: TestClient(app, mode='asgi')")
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": subprotocols or [],
            "state": {},
        }
        return WebSocketSession(self._loop, self.app.asgi, scope, timeout)

    def _lifespan_step(self, event: str) -> None:
        assert self._loop is not None
        assert self._to_app is not None
        assert self._from_app is not None
        self._loop.run_until_complete(self._to_app.put({"type": event}))
        reply = self._loop.run_until_complete(self._from_app.get())
        if reply["type"] != f"{event}.complete":
            raise RuntimeError(f"{event} failed: {reply.get('message', reply['type'])}")
