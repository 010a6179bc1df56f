"""Request ids: one per request, from a trusted header or generated, visible to all its logs.

``app.middleware(RequestIdMiddleware())`` gives every request an id: the incoming
``X-Request-ID`` when it is well-formed (at most ``max_length`` safe characters), else a new
uuid4 hex. The id is put in ``request.state["request_id"]``, in a contextvar read by
:func:`current_request_id`, and in the response's ``X-Request-ID``. Add
:class:`RequestIdFilter` to a logging handler and every record that handler emits during the
request - the handler code's own ``logging.getLogger(__name__)`` records included - carries
``record.request_id``.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Final

from duoweb.requests import Request
from duoweb.responses import Response
from duoweb.streaming import Chunk, ChunkSource, StreamingResponse

__all__ = [
    "STATE_KEY",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "current_request_id",
    "new_request_id",
    "request_id_var",
]

#: The ``request.state`` key holding the id.
STATE_KEY: Final = "request_id"

#: The id of the request being handled in this context, or None outside of one.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "duoweb_request_id", default=None
)

_SAFE = re.compile(r"[A-Za-z0-9._:@+=/-]+")

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


def current_request_id() -> str | None:
    """The id of the request being handled in this context, or None outside of one."""
    return request_id_var.get()


def new_request_id() -> str:
    """A fresh request id: 32 lowercase hex digits from a random uuid4."""
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Set ``record.request_id`` to the current request's id (``default`` outside requests).

    Attach it to a *handler* (``handler.addFilter(RequestIdFilter())``): handler filters see
    every record the handler emits, including those propagated from child loggers, whereas a
    logger's filters only see records logged on that very logger. A record that already has
    a ``request_id`` (the access log passes it explicitly) keeps it.
    """

    def __init__(self, default: str = "-") -> None:
        super().__init__()
        self.default = default

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the id; never drops a record."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or self.default
        return True


def _sync_stream(stream: Iterable[Chunk], request_id: str) -> Iterator[Chunk]:
    """Re-enter the request's id around each step of a body iterator (it runs after return)."""
    iterator = iter(stream)
    try:
        while True:
            token = request_id_var.set(request_id)
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            finally:
                request_id_var.reset(token)
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            token = request_id_var.set(request_id)
            try:
                close()
            finally:
                request_id_var.reset(token)


async def _async_stream(stream: AsyncIterable[Chunk], request_id: str) -> AsyncIterator[Chunk]:
    iterator = aiter(stream)
    try:
        while True:
            token = request_id_var.set(request_id)
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            finally:
                request_id_var.reset(token)
            yield chunk
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            token = request_id_var.set(request_id)
            try:
                await close()
            finally:
                request_id_var.reset(token)


def _carry_into_stream(stream: ChunkSource, request_id: str) -> ChunkSource:
    if isinstance(stream, AsyncIterable):
        return _async_stream(stream, request_id)
    return _sync_stream(stream, request_id)


class RequestIdMiddleware:
    """Give each request an id: echoed, in ``request.state``, and in a contextvar for logs.

    - ``header``: the request and response header carrying the id (``X-Request-ID``).
    - ``trust_incoming``: take a well-formed incoming id (from your proxy or load balancer);
      False always generates one.
    - ``max_length``: the longest incoming id accepted; longer ones, and ones with characters
      other than letters, digits and ``._:@+=/-``, are replaced by a generated id.
    - ``generate``: makes new ids (default :func:`new_request_id`).

    Register it first so that it is the outermost middleware and everything else (the access
    log included) runs with the id set. While a streaming body is produced, the id is set too.
    It is dual-mode: ``__call__`` is the ``def`` middleware, ``call_async`` the ``async def`` one.
    """

    def __init__(
        self,
        *,
        header: str = "X-Request-ID",
        trust_incoming: bool = True,
        max_length: int = 128,
        generate: Callable[[], str] = new_request_id,
    ) -> None:
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.header = header.lower()
        self.trust_incoming = trust_incoming
        self.max_length = max_length
        self.generate = generate

    def is_valid(self, value: str) -> bool:
        """True for an id this middleware accepts from a client."""
        return len(value) <= self.max_length and _SAFE.fullmatch(value) is not None

    def request_id_for(self, request: Request) -> str:
        """The incoming id when trusted and well-formed, else a new one."""
        if self.trust_incoming:
            incoming = request.headers.get(self.header)
            if incoming is not None and self.is_valid(incoming):
                return incoming
        return self.generate()

    def _finish(self, response: Response, request_id: str) -> Response:
        response.set_header(self.header, request_id)
        if isinstance(response, StreamingResponse):
            response.stream = _carry_into_stream(response.stream, request_id)
        return response

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        request_id = self.request_id_for(request)
        request.state[STATE_KEY] = request_id
        token = request_id_var.set(request_id)
        try:
            response = call_next(request)
        finally:
            request_id_var.reset(token)
        return self._finish(response, request_id)

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        request_id = self.request_id_for(request)
        request.state[STATE_KEY] = request_id
        token = request_id_var.set(request_id)
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        return self._finish(response, request_id)
