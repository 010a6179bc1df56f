"""App-lifetime state: ``App(lifespan=...)``, what it yields, and ``AppState[T]`` parameters.

The lifespan is a context manager factory (``@contextmanager`` or ``@asynccontextmanager``)
entered once per worker process before it serves and exited when the worker stops. The
value it yields is the app's state; a handler or dependency parameter annotated
``AppState[State]`` receives it, typed as ``State``.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

from duoweb.concurrency import run_on_thread_loop
from duoweb.errors import HTTPError
from duoweb.responses import Response, problem_response

if TYPE_CHECKING:
    from duoweb.app import App

T = TypeVar("T")

#: ``App(lifespan=...)``: called with the app, returns a sync or async context manager (a
#: bare generator function, sync or async, is taken as if decorated).
LifespanFactory = Callable[
    ["App"],
    AbstractContextManager[Any]
    | AbstractAsyncContextManager[Any]
    | Iterator[Any]
    | AsyncIterator[Any],
]


class AppStateMarker:
    """The ``Annotated`` marker of an ``AppState[T]`` parameter."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "AppState"


#: ``state: AppState[State]``: the value the app's lifespan yielded, typed as ``State``.
AppState: TypeAlias = Annotated[T, AppStateMarker()]


class LifespanError(RuntimeError):
    """The app's lifespan is misconfigured (e.g. AppState requested without a lifespan)."""


class Lifespan:
    """One worker's run of the lifespan factory: entered at startup, exited at shutdown."""

    __slots__ = ("_async", "_factory", "_manager")

    def __init__(self, factory: LifespanFactory) -> None:
        if not callable(factory):
            raise LifespanError(f"lifespan= needs a context manager factory, got {factory!r}")
        # A bare (async) generator function is taken as if decorated.
        if inspect.isasyncgenfunction(factory):
            factory = contextlib.asynccontextmanager(factory)
        elif inspect.isgeneratorfunction(factory):
            factory = contextlib.contextmanager(factory)
        self._factory: Callable[[App], Any] = factory
        self._manager: Any = None
        self._async = False

    def _open(self, app: App) -> Any:
        manager = self._factory(app)
        if hasattr(manager, "__aenter__"):
            self._async = True
        elif not hasattr(manager, "__enter__"):
            raise LifespanError(
                f"lifespan {self._factory!r} returned {manager!r}, not a context manager; "
                "decorate it with @contextmanager or @asynccontextmanager"
            )
        else:
            self._async = False
        self._manager = manager
        return manager

    def enter_sync(self, app: App) -> Any:
        """Enter from synchronous code (an async lifespan runs on this thread's loop)."""
        manager = self._open(app)
        if self._async:
            return run_on_thread_loop(_awaited(manager.__aenter__()))
        return manager.__enter__()

    async def enter_async(self, app: App) -> Any:
        """Enter on the running event loop."""
        manager = self._open(app)
        if self._async:
            return await manager.__aenter__()
        return manager.__enter__()

    def exit_sync(self) -> None:
        """Exit from synchronous code (the code after ``yield`` runs now)."""
        manager, self._manager = self._manager, None
        if manager is None:
            return
        if self._async:
            run_on_thread_loop(_awaited(manager.__aexit__(None, None, None)))
        else:
            manager.__exit__(None, None, None)

    async def exit_async(self) -> None:
        """Exit on the running event loop (the code after ``yield`` runs now)."""
        manager, self._manager = self._manager, None
        if manager is None:
            return
        if self._async:
            await manager.__aexit__(None, None, None)
        else:
            manager.__exit__(None, None, None)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def starting_response() -> Response:
    """The answer to a request that arrives while this worker is still starting: 503."""
    return problem_response(
        HTTPError(503, "The application is starting; retry shortly.", headers={"retry-after": "1"})
    )


def failed_response() -> Response:
    """The answer to every request once this worker's startup failed: 503."""
    return problem_response(HTTPError(503, "The application failed to start."))
