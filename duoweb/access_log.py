"""One access log line per request through standard logging, with structured fields.

``app.middleware(AccessLogMiddleware())`` logs each request on the ``duoweb.access`` logger
at INFO, in a common-log-format-like message::

    127.0.0.1 - - [05/Mar/2025:14:02:11 +0000] "GET /items?page=2" 200 512 3.1ms 1f0c...

and with the same facts as ``extra`` attributes on the record, for structured (JSON)
formatters: ``method``, ``path``, ``query``, ``status``, ``bytes``, ``duration_ms``,
``client`` and ``request_id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Final
from urllib.parse import unquote_plus

from duoweb.errors import HTTPError
from duoweb.request_id import STATE_KEY
from duoweb.requests import Request
from duoweb.responses import Response
from duoweb.streaming import Chunk, FileResponse, StreamingResponse

__all__ = ["ACCESS_LOGGER", "REDACTED_QUERY_PARAMETERS", "AccessLogMiddleware", "redact_query"]

#: The name of the logger access lines go to.
ACCESS_LOGGER: Final = "duoweb.access"

#: Query parameters whose values are credentials: logged as ``***`` (headers and cookies,
#: Authorization and API-key headers included, are never logged at all).
REDACTED_QUERY_PARAMETERS: Final = frozenset(
    {"access_token", "api_key", "apikey", "key", "token", "password", "secret", "client_secret"}
)

_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# Control characters, quotes and backslashes in a logged path could forge log lines.
_ESCAPES: Final = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x22, 0x5C, 0x7F]}

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


def _clf_time(seconds: float) -> str:
    """``05/Mar/2025:14:02:11 +0000`` (UTC, month names independent of the locale)."""
    t = time.gmtime(seconds)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def redact_query(query: str, names: frozenset[str]) -> str:
    """``query`` with the values of the parameters in ``names`` (lowercase) replaced by ``***``."""
    parts = query.split("&")
    changed = False
    for index, part in enumerate(parts):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).lower() in names:
            parts[index] = f"{name}=***"
            changed = True
    return "&".join(parts) if changed else query


def _size(chunk: Chunk) -> int:
    return len(chunk.encode()) if isinstance(chunk, str) else len(chunk)


class AccessLogMiddleware:
    """Log one line per request on ``logger`` (default ``duoweb.access``) at ``level``.

    The line is written when the response is complete: at once for ordinary responses, and
    when the body has been sent (or abandoned) for streaming ones, so ``duration_ms`` and
    ``bytes`` cover the whole body. ``bytes`` is the body size as sent (after compression if
    the compression middleware runs inside this one); HEAD responses count 0.
    ``request_id`` comes from :class:`~duoweb.request_id.RequestIdMiddleware` when it runs
    (register that one first). It is dual-mode: ``__call__`` is the ``def`` middleware,
    ``call_async`` the ``async def`` one.
    """

    def __init__(
        self,
        *,
        logger: logging.Logger | str = ACCESS_LOGGER,
        level: int = logging.INFO,
        redact_query: Iterable[str] = REDACTED_QUERY_PARAMETERS,
    ) -> None:
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level
        #: Query parameters logged as ``***`` (e.g. an APIKeyQuery's name).
        self.redact_query = frozenset(name.lower() for name in redact_query)

    def log(self, request: Request, status: int, size: int | None, started: float) -> None:
        """Write the access line for ``request``; ``started`` is a ``time.perf_counter()``."""
        if not self.logger.isEnabledFor(self.level):
            return
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        peer = request.client
        client = peer[0] if peer is not None else None
        query = request.query_string.decode("latin-1")
        if query and self.redact_query:
            query = redact_query(query, self.redact_query)
        target = request.path + (f"?{query}" if query else "")
        request_id = request.state.get(STATE_KEY)
        fields: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": query,
            "status": status,
            "bytes": size,
            "duration_ms": duration_ms,
            "client": client,
            "request_id": request_id,
        }
        self.logger.log(
            self.level,
            '%s - - [%s] "%s %s" %d %s %.1fms %s',
            client or "-",
            _clf_time(time.time()),
            request.method.translate(_ESCAPES),
            target.translate(_ESCAPES),
            status,
            "-" if size is None else size,
            duration_ms,
            request_id or "-",
            extra=fields,
        )

    def _after(self, request: Request, response: Response, started: float) -> Response:
        if request.method == "HEAD":
            self.log(request, response.status_code, 0, started)
        elif isinstance(response, FileResponse):
            # Servers may send the file themselves (sendfile), without iterating the stream.
            self.log(request, response.status_code, response.length, started)
        elif isinstance(response, StreamingResponse):
            stream = response.stream
            if isinstance(stream, AsyncIterable):
                response.stream = _LoggedAsyncStream(stream, self, request, response, started)
            else:
                response.stream = _LoggedStream(stream, self, request, response, started)
        else:
            self.log(request, response.status_code, len(response.body), started)
        return response

    def _failed(self, request: Request, exc: Exception, started: float) -> None:
        # An exception from an inner middleware: the app turns it into a response after us.
        self.log(request, exc.status if isinstance(exc, HTTPError) else 500, None, started)

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        started = time.perf_counter()
        try:
            response = call_next(request)
        except Exception as exc:
            self._failed(request, exc, started)
            raise
        return self._after(request, response, started)

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as exc:
            self._failed(request, exc, started)
            raise
        return self._after(request, response, started)


class _LoggedStream:
    """A sync body iterator that counts what was sent and logs once, when done or closed."""

    def __init__(
        self,
        stream: Iterable[Chunk],
        middleware: AccessLogMiddleware,
        request: Request,
        response: Response,
        started: float,
    ) -> None:
        self._iterator = iter(stream)
        self._middleware = middleware
        self._request = request
        self._status = response.status_code
        self._started = started
        self._sent = 0
        self._logged = False

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        try:
            chunk = next(self._iterator)
        except BaseException:
            self.close()
            raise
        self._sent += _size(chunk)
        return chunk

    def close(self) -> None:
        """Close the wrapped iterator and write the access line (once)."""
        if self._logged:
            return
        self._logged = True
        try:
            close = getattr(self._iterator, "close", None)
            if close is not None:
                close()
        finally:
            self._middleware.log(self._request, self._status, self._sent, self._started)


class _LoggedAsyncStream:
    """An async body iterator that counts what was sent and logs once, when done or closed."""

    def __init__(
        self,
        stream: AsyncIterable[Chunk],
        middleware: AccessLogMiddleware,
        request: Request,
        response: Response,
        started: float,
    ) -> None:
        self._iterator = aiter(stream)
        self._middleware = middleware
        self._request = request
        self._status = response.status_code
        self._started = started
        self._sent = 0
        self._logged = False

    def __aiter__(self) -> AsyncIterator[Chunk]:
        return self

    async def __anext__(self) -> Chunk:
        try:
            chunk = await anext(self._iterator)
        except BaseException:
            await self.aclose()
            raise
        self._sent += _size(chunk)
        return chunk

    async def aclose(self) -> None:
        """Close the wrapped iterator and write the access line (once)."""
        if self._logged:
            return
        self._logged = True
        try:
            close = getattr(self._iterator, "aclose", None)
            if close is not None:
                await close()
        finally:
            self._middleware.log(self._request, self._status, self._sent, self._started)
