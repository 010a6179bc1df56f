"""Router middleware: a chain around one route's responders, built once at registration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from duoweb.concurrency import run_on_thread_loop
from duoweb.errors import ClientDisconnected
from duoweb.middleware import async_chain, is_async, sync_chain
from duoweb.requests import Request
from duoweb.responses import Response

if TYPE_CHECKING:
    from duoweb.concurrency import ThreadPool
    from duoweb.endpoints import ResponderWrapper

SyncResponder = Callable[[Request], Response]
AsyncResponder = Callable[[Request, "ThreadPool"], Awaitable[Response]]


def middleware_wrapper(
    middleware: Sequence[Callable[..., Any]],
    pool: ThreadPool,
    error_sync: Callable[[Request, Exception], Response],
    error_async: Callable[[Request, Exception], Coroutine[Any, Any, Response]],
) -> ResponderWrapper:
    """Wrap a route's responders in ``middleware`` (outermost first).

    The route's errors become responses inside the chain, through the App's error handlers
    (``error_sync`` / ``error_async``), so the middleware sees them as it sees any answer.
    """
    chain = tuple(middleware)
    all_sync = not any(is_async(m) for m in chain)

    def wrap(respond_sync: SyncResponder, respond_async: AsyncResponder) -> Any:
        def core_sync(request: Request) -> Response:
            try:
                return respond_sync(request)
            except Exception as exc:
                return error_sync(request, exc)

        async def core_async(request: Request) -> Response:
            try:
                return await respond_async(request, pool)
            except ClientDisconnected:
                raise
            except Exception as exc:
                return await error_async(request, exc)

        through_async = async_chain(chain, core_async, pool)

        async def wrapped_async(request: Request, _pool: ThreadPool) -> Response:
            return await through_async(request)

        if all_sync:
            return sync_chain(chain, core_sync), wrapped_async

        def wrapped_sync(request: Request) -> Response:
            # Some middleware is async: run the async chain on this thread's loop (WSGI).
            return run_on_thread_loop(_awaited(through_async, request))

        return wrapped_sync, wrapped_async

    return wrap


async def _awaited(chain: Callable[[Request], Awaitable[Response]], request: Request) -> Response:
    return await chain(request)
