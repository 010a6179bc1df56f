"""Responses whose body is produced over time: iterators, files and Server-Sent Events."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import msgspec

from duoweb._lazy import lazy_import
from duoweb._messages import HeadersInput, encode_fields
from duoweb.responses import Response

if TYPE_CHECKING:
    import mimetypes
else:
    mimetypes = lazy_import("mimetypes", globals())  # only file responses guess types

Chunk = bytes | str
ChunkSource = Iterable[Chunk] | AsyncIterable[Chunk]


# RFC 8187 attr-char minus the punctuation some clients mishandle: sent as is, the rest %XX.
_ATTR_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(timestamp: float) -> str:
    """A POSIX time as an RFC 9110 IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    t = time.gmtime(timestamp)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def as_bytes(chunk: Chunk) -> bytes:
    """A body chunk as bytes (str is encoded as UTF-8)."""
    return chunk.encode() if isinstance(chunk, str) else bytes(chunk)


class StreamingResponse(Response):
    """A response whose body comes from a sync or async iterator of bytes/str chunks.

    Under ASGI a client disconnect stops the iteration and closes the iterator, so the
    generator's ``finally`` blocks run; under WSGI the server closes it when done.
    """

    __slots__ = ("stream",)

    def __init__(
        self,
        content: ChunkSource,
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, media_type)
        self.stream = content

    def header_list(self) -> list[tuple[str, str]]:
        """The headers as set: the length of a stream is not known in advance."""
        return self._headers

    def asgi_header_list(self) -> list[tuple[bytes, bytes]]:
        """``header_list()`` encoded for ASGI."""
        return encode_fields(self._headers)


class FileResponse(StreamingResponse):
    """Send (part of) a file; the type is guessed from its name unless given."""

    __slots__ = ("chunk_size", "length", "offset", "path", "size")

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
        *,
        filename: str | None = None,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = 64 * 1024,
        stat_result: os.stat_result | None = None,
    ) -> None:
        self.path = os.fspath(path)
        info = stat_result or os.stat(self.path)
        self.size = info.st_size
        self.offset = offset
        self.length = info.st_size - offset if length is None else length
        self.chunk_size = chunk_size
        if media_type is None:
            guessed, _ = mimetypes.guess_type(filename or self.path)
            media_type = guessed or "application/octet-stream"
        super().__init__(_read_file(self), status_code, headers, media_type)
        self.set_header("content-length", str(self.length))
        if self.get_header("last-modified") is None:
            self.set_header("last-modified", http_date(info.st_mtime))
        if filename is not None:
            # RFC 6266 / 8187: an ASCII fallback plus the UTF-8 name.
            # The fallback is a quoted-string: printable ASCII only, no quote or backslash.
            fallback = "".join(
                c if " " <= c <= "~" and c not in '"\\' else "?" if c != '"' else ""
                for c in filename
            )
            quoted = "".join(
                chr(b) if chr(b) in _ATTR_CHARS else f"%{b:02X}"
                for b in filename.encode("utf-8", "replace")  # a lone surrogate becomes "?"
            )
            self.set_header(
                "content-disposition",
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}",
            )

    def open(self) -> BinaryIO:
        """Open the file to send; a subclass may check it is still the file it chose."""
        return open(self.path, "rb")

    @property
    def whole_file(self) -> bool:
        """True when the response sends the file from start to end (sendfile can be used)."""
        return self.offset == 0 and self.length == self.size


def _read_file(response: FileResponse) -> Iterator[bytes]:
    with response.open() as file:
        file.seek(response.offset)
        remaining = response.length
        while remaining > 0:
            chunk = file.read(min(response.chunk_size, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _sse_lines(text: str) -> list[str]:
    """``text`` split at CRLF, CR and LF only: the line breaks of text/event-stream.

    ``str.splitlines()`` also splits at U+2028, U+0085, form feeds and more, which would cut a
    JSON string that carries them; a trailing line break is kept as a last empty line.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class ServerSentEvent(msgspec.Struct, omit_defaults=True):
    """One Server-Sent Event; ``data`` that is not a str is sent as JSON."""

    data: Any = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def encode(self) -> bytes:
        """The event in text/event-stream framing."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _sse_lines(self.comment))
        for field, value in (("event", self.event), ("id", self.id)):
            if value is not None:
                if len(_sse_lines(value)) != 1:
                    raise ValueError(f"SSE {field} must be one line")
                lines.append(f"{field}: {value}")
        if self.retry is not None:
            lines.append(f"retry: {int(self.retry)}")
        if self.data is not None:
            text = self.data if isinstance(self.data, str) else msgspec.json.encode(self.data)
            text = text.decode() if isinstance(text, bytes) else text
            lines.extend(f"data: {line}" for line in _sse_lines(text))
        return ("\n".join(lines) + "\n\n").encode()


def _as_event(item: ServerSentEvent | str | Any) -> bytes:
    return (item if isinstance(item, ServerSentEvent) else ServerSentEvent(data=item)).encode()


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` of events from a sync or async iterator."""

    __slots__ = ()

    def __init__(
        self,
        events: Iterable[Any] | AsyncIterable[Any],
        status_code: int = 200,
        headers: HeadersInput = None,
    ) -> None:
        super().__init__(_encode_events(events), status_code, headers, "text/event-stream")
        self.set_header("cache-control", "no-cache")
        self.set_header("x-accel-buffering", "no")  # tell nginx not to buffer the stream


def _encode_events(events: Iterable[Any] | AsyncIterable[Any]) -> ChunkSource:
    if isinstance(events, AsyncIterable):

        async def encode_async() -> AsyncIterator[bytes]:
            iterator = aiter(events)
            try:
                async for item in iterator:
                    yield _as_event(item)
            finally:
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    await close()

        return encode_async()

    def encode_sync() -> Iterator[bytes]:
        iterator = iter(events)
        try:
            for item in iterator:
                yield _as_event(item)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    return encode_sync()
