"""Streamed bodies that report when they are done, so a request's latency covers its body.

A streaming response is only begun when its handler returns; the server pulls the body
afterwards. Wrapping its chunk source in one of these calls ``done()`` once, when the body
is exhausted or closed (both adapters close a stream's iterator when they stop, whether the
body was sent, cut short by a disconnect, or not sent at all for HEAD).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from duoweb.streaming import Chunk, ChunkSource

__all__ = ["AsyncTimedStream", "SyncTimedStream", "timed_stream"]


class _Reporting:
    """Calls ``done()`` the first time ``_finish`` runs, never again."""

    __slots__ = ("_done",)

    def __init__(self, done: Callable[[], None]) -> None:
        self._done: Callable[[], None] | None = done

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done()


class SyncTimedStream(_Reporting):
    """A sync chunk iterator over ``stream`` that calls ``done()`` once it ends or is closed."""

    __slots__ = ("_iterator", "_stream")

    def __init__(self, stream: Iterable[Chunk], done: Callable[[], None]) -> None:
        super().__init__(done)
        self._stream = stream
        self._iterator: Iterator[Chunk] | None = None

    def __iter__(self) -> SyncTimedStream:
        return self

    def __next__(self) -> Chunk:
        iterator = self._iterator
        if iterator is None:
            iterator = self._iterator = iter(self._stream)
        try:
            return next(iterator)
        except StopIteration:
            self._finish()
            raise

    def close(self) -> None:
        """Close the wrapped iterator (its cleanup runs), then report the body done."""
        try:
            closer: Any = getattr(self._iterator, "close", None)
            if closer is not None:
                closer()
        finally:
            self._finish()


class AsyncTimedStream(_Reporting):
    """An async chunk iterator over ``stream`` that calls ``done()`` once it ends or closes."""

    __slots__ = ("_iterator", "_stream")

    def __init__(self, stream: AsyncIterable[Chunk], done: Callable[[], None]) -> None:
        super().__init__(done)
        self._stream = stream
        self._iterator: AsyncIterator[Chunk] | None = None

    def __aiter__(self) -> AsyncTimedStream:
        return self

    async def __anext__(self) -> Chunk:
        iterator = self._iterator
        if iterator is None:
            iterator = self._iterator = aiter(self._stream)
        try:
            return await anext(iterator)
        except StopAsyncIteration:
            self._finish()
            raise

    async def aclose(self) -> None:
        """Close the wrapped iterator (its cleanup runs), then report the body done."""
        try:
            closer: Any = getattr(self._iterator, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            self._finish()


def timed_stream(stream: ChunkSource, done: Callable[[], None]) -> ChunkSource:
    """``stream`` wrapped so that ``done()`` is called once, when its body is over."""
    if isinstance(stream, AsyncIterable):
        return AsyncTimedStream(stream, done)
    return SyncTimedStream(stream, done)
