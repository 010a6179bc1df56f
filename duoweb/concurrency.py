"""Running sync code from async code and async code from sync code, defined once."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from duoweb._lazy import lazy_import

if TYPE_CHECKING:
    import asyncio
    import contextvars
    from concurrent.futures import ThreadPoolExecutor
else:
    # A WSGI app with only def handlers needs none of them: imported when first used.
    asyncio = lazy_import("asyncio", globals())
    contextvars = lazy_import("contextvars", globals())

T = TypeVar("T")

_thread_state = threading.local()


def run_on_thread_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on this thread's own event loop (created once, reused).

    This is how WSGI mode runs ``async def`` handlers: one loop per worker thread, never one
    per request.
    """
    return _thread_loop().run_until_complete(coroutine)


def _thread_loop() -> asyncio.AbstractEventLoop:
    """The calling thread's loop; its owner is held by the thread-local only, never a frame.

    A traceback (an exception kept in a reference cycle) holds the frames it passed through;
    were the owner one of their locals, it could outlive the thread and be freed by the cycle
    collector together with the loop, in either order: "unclosed event loop" when the loop
    goes first. Held by the thread-local alone, it closes the loop when the thread ends.
    """
    owner: _ThreadLoop | None = getattr(_thread_state, "owner", None)
    if owner is None or owner.loop.is_closed():
        owner = _thread_state.owner = _ThreadLoop()
    return owner.loop


class _ThreadLoop:
    """One thread's event loop, closed when the thread ends (and drops its thread-locals).

    A server that retires idle worker threads (Granian's blocking threads, for one) would
    otherwise leave each one's loop, and its self-pipe sockets, open.
    """

    __slots__ = ("loop",)

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        self.loop.close()


class ThreadPool:
    """A bounded pool for ``def`` handlers under ASGI; each call keeps the caller's contextvars."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("the thread pool needs at least one thread")
        self.size = size
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _get_executor(self) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._executor = ThreadPoolExecutor(self.size, "duoweb-sync")
                executor = self._executor
        return executor

    async def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call ``function(*args, **kwargs)`` on a pool thread and await its result."""
        context = contextvars.copy_context()
        call = functools.partial(context.run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._get_executor(), call)

    def shutdown(self) -> None:
        """Stop the pool's threads once their current work is done."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
