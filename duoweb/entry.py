"""``app.__call__`` as servers inspect it: an ASGI 3 coroutine function that still serves WSGI.

Uvicorn and Hypercorn pick the protocol by asking ``inspect.iscoroutinefunction(app.__call__)``
(Uvicorn: ASGI 3 if true, else ASGI 2; Hypercorn: ASGI if true, else WSGI). The class's
``App.__call__`` must stay a plain function, since a WSGI server needs an iterable back rather
than a coroutine, and it is what calling the App runs, at no extra cost. Each App also carries
:func:`inspected_call` in its instance dictionary, which an attribute lookup of ``__call__``
finds first: a bound method whose function looks like an ``async def`` to ``inspect`` and,
when called, serves exactly as the App does.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from duoweb.app import App


async def serve_asgi(app: App, scope: Any, receive: Any, send: Any) -> None:
    """Serve one ASGI 3 connection with ``app``: the signature servers look for."""
    await app.asgi(scope, receive, send)


class _CoroutineLookalike:
    """A function-like object with ``serve_asgi``'s code; called, it dispatches like the App.

    ``inspect`` treats an object with ``__code__``, ``__name__``, ``__defaults__``,
    ``__kwdefaults__`` and ``__annotations__`` as a function and reads the coroutine flag off
    its code object, so servers see an ASGI 3 callable.
    """

    def __init__(self) -> None:
        self.__code__ = serve_asgi.__code__
        self.__name__ = "__call__"
        self.__qualname__ = "App.__call__"
        self.__module__ = "duoweb.app"
        self.__defaults__ = None
        self.__kwdefaults__ = None
        self.__annotations__: dict[str, Any] = {}
        self.__doc__ = "Serve WSGI with two arguments, ASGI 3 with three, ASGI 2 with one."

    def __call__(self, app: App, *args: Any) -> Any:
        return type(app).__call__(app, *args)


_LOOKALIKE = _CoroutineLookalike()


def inspected_call(app: App) -> types.MethodType:
    """What ``app.__call__`` returns: a bound method ``inspect`` takes for a coroutine one."""
    return types.MethodType(_LOOKALIKE, app)
