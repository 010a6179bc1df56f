"""The ASGI 3 adapter: scope/receive/send <-> Request/Response, plus the lifespan protocol."""

from __future__ import annotations

import os
import threading
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
)
from typing import TYPE_CHECKING, Any, cast

from duoweb._lazy import lazy_import, lazy_logger
from duoweb._messages import asgi_request
from duoweb._serve import finished_tasks
from duoweb.errors import ClientDisconnected
from duoweb.headers import Headers
from duoweb.lifespan import failed_response, starting_response
from duoweb.requests import BodyAlreadyRead, Request, body_too_large
from duoweb.responses import Response
from duoweb.streaming import ChunkSource, FileResponse, StreamingResponse, as_bytes

if TYPE_CHECKING:
    import asyncio

    from duoweb.app import App
    from duoweb.concurrency import ThreadPool
    from duoweb.origins import AllowedOrigins
else:
    # Imported when first served: building the adapter (``app.asgi``) stays cheap.
    asyncio = lazy_import("asyncio", globals())

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = lazy_logger("duoweb", globals())


async def _body_already_read() -> Message:
    """The receive of a request whose body a chunk reader consumed."""
    raise BodyAlreadyRead


def _sync_read_refused(instead: str) -> RuntimeError:
    """The error of a synchronous body read under ASGI, naming the async read to use."""
    return RuntimeError(
        f"Under ASGI the request body arrives asynchronously: read it with `{instead}` in "
        "async def code (e.g. an async def middleware), or take it as a handler parameter."
    )


class ASGIRequest(Request):
    """A Request read from an ASGI http scope; the body arrives through ``receive``."""

    __slots__ = ("receive", "scope")

    #: The ASGI http scope the request was read from.
    scope: Scope
    #: The ASGI receive callable the body arrives through (set by ``asgi_request``).
    receive: Receive

    def _build_headers(self) -> Headers:
        return Headers.from_asgi(self.scope["headers"])

    def _header_values(self, name: bytes) -> list[str]:
        """Every value of one header, straight from the scope (``name`` is lowercase)."""
        return [
            value.decode("latin-1")
            for key, value in self.scope["headers"]
            if key == name or (len(key) == len(name) and key.lower() == name)
        ]

    def _raw_content_length(self) -> str | None:
        values = self._header_values(b"content-length")
        if not values:
            return None
        # Repeated fields are joined; parse_content_length then refuses anything but one number.
        return values[0] if len(values) == 1 else ",".join(values)

    def raw_content_type(self) -> str | None:
        values = self._header_values(b"content-type")
        return values[0] if len(values) == 1 else None if not values else ",".join(values)

    async def receive_body(self, limit: int) -> bytes:
        declared = self.content_length
        if declared is not None and declared > limit:
            raise body_too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            kind = message["type"]
            if kind == "http.disconnect":
                raise ClientDisconnected
            if kind != "http.request":
                continue
            chunk: bytes = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise body_too_large(limit)
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def receive_body_chunks(self, limit: int) -> AsyncIterator[bytes]:
        # receive_body's loop, yielding instead of gathering. Kept apart on purpose: every
        # body-reading route awaits receive_body, and an async generator under it would
        # cost each of them the generator's setup and one more await per message.
        declared = self.content_length
        if declared is not None and declared > limit:
            raise body_too_large(limit)
        size = 0
        while True:
            message = await self.receive()
            kind = message["type"]
            if kind == "http.disconnect":
                raise ClientDisconnected
            if kind != "http.request":
                continue
            chunk: bytes = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise body_too_large(limit)
                yield chunk
            if not message.get("more_body", False):
                # Any later read would wait for messages that never come: make it fail, naming
                # the mistake (the hot receive_body path pays nothing for this).
                self.receive = _body_already_read
                return

    def body_chunks(self, limit: int) -> Iterator[bytes]:
        """Refused: an ASGI body arrives on the event loop, where ``def`` code does not run."""
        raise _sync_read_refused("async for chunk in request.receive_body_chunks(limit)")

    def read_body(self, limit: int) -> bytes:
        """Refused, as body_chunks: the ASGI body is read with ``await receive_body(limit)``."""
        raise _sync_read_refused("await request.receive_body(limit)")

    def _server_scheme(self) -> str:
        """The URL scheme from the scope."""
        return str(self.scope.get("scheme", "http"))

    def _peer(self) -> tuple[str, int] | None:
        """The scope's client (host, port), when the server sets it."""
        client = self.scope.get("client")
        return (str(client[0]), int(client[1])) if client else None

    @property
    def root_path(self) -> str:
        """The scope's root_path."""
        return str(self.scope.get("root_path", ""))


async def _async_chunks(stream: ChunkSource, pool: ThreadPool) -> AsyncGenerator[bytes, None]:
    """Chunks of a sync or async iterator as bytes; sync iterators advance in the pool."""
    if isinstance(stream, AsyncIterable):
        iterator = aiter(stream)
        try:
            async for chunk in iterator:
                yield as_bytes(chunk)
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
        return
    sync_iterator = iter(stream)
    done = object()
    # Cancelling the await (client gone) does not stop a next() already running in a pool
    # thread; close() must wait for it, or it fails with "generator already executing".
    stepping = threading.Lock()

    def step() -> Any:
        with stepping:
            return next(sync_iterator, done)

    def finish() -> None:
        with stepping:
            closer = getattr(sync_iterator, "close", None)
            if closer is not None:
                closer()

    try:
        while True:
            chunk = await pool.run(step)
            if chunk is done:
                return
            yield as_bytes(chunk)
    finally:
        await pool.run(finish)


async def _send_response(send: Send, response: Response) -> None:
    """Send a whole, non-streaming response."""
    start = {
        "type": "http.response.start",
        "status": response.status_code,
        "headers": response.asgi_header_list(),
    }
    await send(start)
    await send({"type": "http.response.body", "body": response.body})


class ASGIAdapter:
    """Serves an App to an ASGI server: http and lifespan scopes."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: Answers each request (the app's, created with it and never replaced).
        self.dispatcher = app.dispatcher
        #: This worker's startup has run.
        self.started = False
        #: Startup is running (lifespan protocol, or a first request's): others get a 503.
        self._starting = False
        #: Startup failed: every request gets a 503, without trying again.
        self._failed = False
        #: Some route takes BackgroundTasks (known at startup): only then does a request
        #: look for them after its response, so other apps pay nothing for the feature.
        self._tasks_possible = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 application callable."""
        kind = scope["type"]
        if kind == "http":
            # The http path is written out here rather than in a helper: one coroutine fewer
            # per request.
            if not self.started:
                refused = await self.start_or_refuse()
                if refused is not None:
                    await _send_response(send, refused)
                    return
            app = self.app
            request = asgi_request(ASGIRequest, app, scope, receive)
            try:
                answer = self.dispatcher.dispatch_async(request)
                response = answer if isinstance(answer, Response) else await answer
            except ClientDisconnected:
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": response.asgi_header_list(),
                }
            )
            # issubclass of the type: isinstance would look up __class__ on every miss.
            if issubclass(type(response), StreamingResponse):
                streaming = cast(StreamingResponse, response)  # what issubclass checked
                await self._stream(scope, receive, send, streaming, request.method == "HEAD")
            else:
                body = b"" if request.method == "HEAD" else response.body
                await send({"type": "http.response.body", "body": body})
            if self._tasks_possible:
                tasks = finished_tasks(request)
                if tasks is not None:  # the handler added some, and the response is sent
                    from duoweb.background import run_tasks_async

                    await run_tasks_async(tasks, app.thread_pool)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            raise ValueError(f"duoweb does not handle ASGI {kind!r} scopes")

    async def start_or_refuse(self) -> Response | None:
        """Start on the first request when the server has no lifespan support.

        None when serving may go on; else the 503 to answer (still starting, or failed).
        """
        if self._failed:
            return failed_response()
        if self._starting:
            return starting_response()
        if await self._startup() is None:
            return None
        return failed_response()

    async def _startup(self) -> str | None:
        """Run the app's startup once; None when it worked, else the failure (logged once)."""
        self._starting = True
        try:
            await self.app.run_startup_async()
        except Exception as exc:
            self._failed = True
            logger.exception("startup failed: this worker answers 503 until it is restarted")
            return repr(exc)
        finally:
            self._starting = False
        self._tasks_possible = self.app.takes_background_tasks()
        self.started = True
        return None

    async def _stream(
        self, scope: Scope, receive: Receive, send: Send, response: StreamingResponse, head: bool
    ) -> None:
        chunks = _async_chunks(response.stream, self.app.thread_pool)
        if head:
            await chunks.aclose()
            await send({"type": "http.response.body", "body": b""})
            return
        extensions: dict[str, Any] = scope.get("extensions") or {}
        if (
            isinstance(response, FileResponse)
            and "http.response.pathsend" in extensions
            and response.whole_file
        ):
            await chunks.aclose()
            await send({"type": "http.response.pathsend", "path": os.path.abspath(response.path)})
            return

        async def pump() -> None:
            try:
                async for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                pass  # the client went away while we were sending
            finally:
                await chunks.aclose()

        async def wait_for_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        pumping = asyncio.ensure_future(pump())
        watching = asyncio.ensure_future(wait_for_disconnect())
        try:
            await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
            grace = self.app.disconnect_grace
            if not pumping.done() and grace > 0:
                # A client that sent its request and shut its write side (a half-close) is
                # reported as a disconnect too, though it still reads: keep sending for a
                # while, so a body that can be delivered is, and an endless one still stops.
                await asyncio.wait({pumping}, timeout=grace)
        finally:
            for task in (pumping, watching):
                if not task.done():
                    task.cancel()
            results = await asyncio.gather(pumping, watching, return_exceptions=True)
        failure = results[0]
        if isinstance(failure, Exception):
            logger.error("streaming response failed", exc_info=failure)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.started and await self.start_or_refuse() is not None:
            # Closing before accepting refuses the handshake; 1013 is "try again later".
            await send({"type": "websocket.close", "code": 1013})
            return
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        found = self.app.match_websocket(path)
        if found is not None and self.app.allowed_hosts is not None:
            found = found if self._allowed_host(scope) else None
        if found is not None and found[0].allowed_origins is not None:
            found = found if _allowed_origin(found[0].allowed_origins, scope) else None
        if found is None:
            # Closing before accepting is the ASGI way to refuse the handshake (403).
            await send({"type": "websocket.close", "code": 1008})
            return
        endpoint, params = found
        from duoweb.websockets import WebSocket  # only apps with WebSocket routes get here

        websocket = WebSocket(
            scope, receive, send, path, params, endpoint.max_message_size, self.app.max_query_params
        )
        await self.app.run_websocket(endpoint, websocket)

    def _allowed_host(self, scope: Scope) -> bool:
        """Whether a WebSocket handshake names a host in ``App(allowed_hosts=...)``."""
        from duoweb.proxies import resolve_origin

        allowed = self.app.allowed_hosts
        client = scope.get("client")
        peer = (str(client[0]), int(client[1])) if client else None
        headers = Headers.from_asgi(scope.get("headers", []))
        origin = resolve_origin(self.app.trusted_proxies, peer, headers, scope.get("scheme", "ws"))
        return allowed is None or allowed.allows(origin.host)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                failure = None if self.started else await self._startup()
                if failure is not None:
                    await send({"type": "lifespan.startup.failed", "message": failure})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                await self.app.run_shutdown_async()
                self.started = False
                await send({"type": "lifespan.shutdown.complete"})
                return


def _allowed_origin(allowed: AllowedOrigins, scope: Scope) -> bool:
    """Whether a WebSocket handshake's Origin (if any) is one ``allowed`` admits."""
    origins = [v for k, v in scope.get("headers", []) if k.lower() == b"origin"]
    if not origins:
        return True  # not a browser: the Origin check protects browser users only
    if len(origins) > 1:
        return False
    return allowed.allows(origins[0].decode("latin-1"), null_by_star=True)
