"""Middleware written once (def or async def) and chained for WSGI and for ASGI.

A middleware is ``(request, call_next) -> Response``: it sees the request before the handler,
the response after it, and may answer by itself without calling ``call_next``. A ``def``
middleware gets a plain ``call_next``; an ``async def`` one gets an awaitable ``call_next``.
An object whose ``__call__`` is ``def`` and which also has an ``async def call_async`` is
dual-mode: its ``def`` side runs in the WSGI chain and ``call_async`` in the async chain.
The first one registered is the outermost.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from duoweb._lazy import lazy_import
from duoweb.requests import Request
from duoweb.responses import Response

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures
    import contextvars

    from duoweb.concurrency import ThreadPool
else:
    # Only the async chain's def middleware use them, when they first run.
    asyncio = lazy_import("asyncio", globals())
    concurrent = lazy_import("concurrent.futures", globals())
    contextvars = lazy_import("contextvars", globals())

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, Any], Any]


def _checked(middleware: Middleware, result: Any) -> Response:
    if not isinstance(result, Response):
        name = getattr(middleware, "__qualname__", middleware)
        raise TypeError(f"middleware {name} returned {result!r}, not a Response")
    return result


def is_async(middleware: Middleware) -> bool:
    """True for ``async def`` middleware (or objects whose ``__call__`` is async)."""
    call = type(middleware).__call__ if not inspect.isfunction(middleware) else middleware
    return inspect.iscoroutinefunction(middleware) or inspect.iscoroutinefunction(call)


def sync_chain(middlewares: Sequence[Middleware], core: SyncNext) -> SyncNext:
    """Chain ``def`` middlewares around the synchronous core (WSGI when all are sync)."""
    handler = core
    for middleware in reversed(middlewares):
        handler = _sync_layer(middleware, handler)
    return handler


def _sync_layer(middleware: Middleware, call_next: SyncNext) -> SyncNext:
    def layer(request: Request) -> Response:
        return _checked(middleware, middleware(request, call_next))

    return layer


def async_chain(middlewares: Sequence[Middleware], core: AsyncNext, pool: ThreadPool) -> AsyncNext:
    """Chain any middlewares around the async core; ``def`` ones run in ``pool``."""
    handler = core
    for middleware in reversed(middlewares):
        call_async = getattr(middleware, "call_async", None)  # a dual-mode middleware object
        if call_async is not None and inspect.iscoroutinefunction(call_async):
            handler = _async_layer(call_async, handler)
        elif is_async(middleware):
            handler = _async_layer(middleware, handler)
        else:
            handler = _pooled_layer(middleware, handler, pool)
    return handler


def _async_layer(middleware: Middleware, call_next: AsyncNext) -> AsyncNext:
    async def layer(request: Request) -> Response:
        return _checked(middleware, await middleware(request, call_next))

    return layer


def _pooled_layer(middleware: Middleware, call_next: AsyncNext, pool: ThreadPool) -> AsyncNext:
    async def layer(request: Request) -> Response:
        loop = asyncio.get_running_loop()

        def call_next_from_thread(inner: Request) -> Response:
            # Run the rest of the chain on the loop, in this thread's context, so contextvars
            # the middleware set are visible to the handler.
            return run_from_thread(loop, lambda: call_next(inner), contextvars.copy_context())

        return _checked(middleware, await pool.run(middleware, request, call_next_from_thread))

    return layer


def run_from_thread(
    loop: asyncio.AbstractEventLoop,
    make_coroutine: Callable[[], Awaitable[Response]],
    context: contextvars.Context,
) -> Response:
    """Run a coroutine on ``loop`` (from another thread) inside ``context``; wait for it."""
    outcome: concurrent.futures.Future[Response] = concurrent.futures.Future()

    def start() -> None:
        async def run() -> Response:
            return await make_coroutine()

        task = loop.create_task(run(), context=context)

        def finished(done: asyncio.Task[Response]) -> None:
            if done.cancelled():
                outcome.cancel()
            elif done.exception() is not None:
                outcome.set_exception(done.exception())
            else:
                outcome.set_result(done.result())

        task.add_done_callback(finished)

    loop.call_soon_threadsafe(start)
    return outcome.result()
