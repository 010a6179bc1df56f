"""Background tasks: ``BackgroundTasks`` and running its calls once the response is sent.

The object itself lives on the compiled request path (``duoweb._serve``), which creates it
for routes that take one; this module runs the queued calls. A task that fails is logged
with its name and never stops the tasks after it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from duoweb._lazy import lazy_logger
from duoweb._serve import BackgroundTasks
from duoweb.concurrency import run_on_thread_loop
from duoweb.signatures import describe

if TYPE_CHECKING:
    from duoweb.concurrency import ThreadPool

__all__ = ["BackgroundTasks", "TasksBody", "run_tasks_async", "run_tasks_sync"]

logger = lazy_logger("duoweb", globals())


def run_tasks_sync(tasks: BackgroundTasks) -> None:
    """Run every task in order on this thread (``async def`` ones on its event loop)."""
    for function, args, kwargs in tasks.pending:
        try:
            result = function(*args, **kwargs)
            if inspect.isawaitable(result):
                run_on_thread_loop(_awaited(result))
        except Exception:
            logger.exception("background task %s failed", describe(function))


async def run_tasks_async(tasks: BackgroundTasks, pool: ThreadPool) -> None:
    """Run every task in order: ``async def`` ones on the loop, ``def`` ones in ``pool``."""
    for function, args, kwargs in tasks.pending:
        try:
            if inspect.iscoroutinefunction(function):
                await function(*args, **kwargs)
            else:
                result = await pool.run(function, *args, **kwargs)
                if inspect.isawaitable(result):  # a callable object whose call is async
                    await result
        except Exception:
            logger.exception("background task %s failed", describe(function))


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class TasksBody:
    """A WSGI body iterable whose ``close()`` closes the body, then runs the tasks.

    PEP 3333 servers call ``close()`` once they have sent the whole response (or given up on
    it), so the tasks run after the client has its answer.
    """

    __slots__ = ("_body", "_tasks")

    def __init__(self, body: Iterable[bytes], tasks: BackgroundTasks) -> None:
        self._body = body
        self._tasks = tasks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        """Close the wrapped body (a stream's cleanup), then run the tasks in order."""
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            run_tasks_sync(self._tasks)
