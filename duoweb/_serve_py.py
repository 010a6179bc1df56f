"""The request path run for every request: the WSGI call and the synchronous dispatcher.

``duoweb._speedups._serve`` compiles the same API, so a request crosses the adapter and the
dispatcher without a Python frame of duoweb's own; the handler is the first Python code it
runs. ``WSGIAdapter`` (startup, shutdown, streaming) subclasses ``WSGICore`` and
``App._dispatch_sync`` is ``dispatch_sync``. This module is the typed source of truth and the
fallback when the extension is not built.

The ASGI side stays in Python (``duoweb/asgi.py``, ``App._start_async``): compiled
coroutines measured no cheaper than Python 3.11's own there, where the cost is the event
loop's and the coroutine protocol's, not the interpreter's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec

from duoweb._messages import wsgi_request
from duoweb.responses import Response
from duoweb.streaming import StreamingResponse

if TYPE_CHECKING:
    from duoweb.app import App
    from duoweb.requests import Request
    from duoweb.wsgi import StartResponse, WSGIRequest

P = ParamSpec("P")
#: One queued call: the function, its positional and its keyword arguments.
Task = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class BackgroundTasks:
    """Calls to make after the response has been sent: ``tasks.add(send_mail, user_id)``.

    A handler (or dependency) gets one per request by taking a parameter annotated
    ``BackgroundTasks``; the tasks run in the order added, once the server has sent the whole
    response, and only if the handler returned (not when it raised).
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[Task] | None = None

    def add(self, function: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call ``function(*args, **kwargs)`` (``def`` or ``async def``) after the response."""
        if not callable(function):
            raise TypeError(f"BackgroundTasks.add() needs a callable, got {function!r}")
        pending = self._pending
        if pending is None:
            pending = self._pending = []
        pending.append((function, args, kwargs))

    @property
    def pending(self) -> list[Task]:
        """The queued calls, in order, as (function, args, kwargs)."""
        return list(self._pending or ())

    def __len__(self) -> int:
        return len(self._pending) if self._pending is not None else 0

    def __repr__(self) -> str:
        return f"<BackgroundTasks: {len(self)} queued>"


def call_with_tasks(
    handler: Callable[..., Any], found: dict[str, Any], names: tuple[str], request: Request
) -> Any:
    """Call a direct handler with a new BackgroundTasks as the parameter ``names[0]``.

    The tasks are kept on ``request.background`` only if the handler added some.
    """
    tasks = BackgroundTasks()
    result = handler(**found, **{names[0]: tasks})
    if tasks._pending is not None:
        request.background = tasks
    return result


def dispatch_sync(app: App, request: Request) -> Response:
    """Route and run the handler synchronously; handler errors become responses."""
    endpoint: Any
    found: Any
    try:
        path = request.path
        if len(path) > app.max_path_length:
            return app._path_too_long()
        endpoint, found = app._router.match(request.method, path)
        if endpoint is None:
            return app._unrouted(request, found, asgi=False)
        request.path_params = found
        direct = endpoint.direct
        if direct:  # only path parameters, sync handler: call it right here
            if direct is True:
                result = endpoint.handler(**found)
            else:  # ...and a BackgroundTasks parameter, named by ``direct`` (a 1-tuple)
                result = call_with_tasks(endpoint.handler, found, direct, request)
            return result if isinstance(result, Response) else endpoint.render(result)
        if endpoint.reads_body:
            request.body = request._read_body(endpoint.max_body_size)
        return endpoint.respond_sync(request)  # type: ignore[no-any-return]
    except Exception as exc:
        return app._error_response_sync(request, exc)


class WSGICore:
    """The WSGI callable's per-request path; the adapter subclass adds the lifecycle."""

    __slots__ = ("_started", "app", "request_class", "status_lines")

    def __init__(
        self, app: App, request_class: type[WSGIRequest], status_lines: dict[int, str]
    ) -> None:
        self.app = app
        #: The request type built for each environ.
        self.request_class = request_class
        #: "200 OK"-style status lines by code.
        self.status_lines = status_lines
        self._started = False

    def _start_or_refuse(self, start_response: StartResponse) -> list[bytes] | None:
        """Run the startup hooks; None when serving may go on, else the answer already begun."""
        raise NotImplementedError

    def _stream(
        self, environ: dict[str, Any], response: StreamingResponse, head: bool
    ) -> Iterable[bytes]:
        """The body iterable of a streaming response."""
        raise NotImplementedError

    def _with_tasks(self, body: Iterable[bytes], tasks: BackgroundTasks) -> Iterable[bytes]:
        """``body``, whose ``close()`` (called by the server once it is sent) runs ``tasks``."""
        raise NotImplementedError

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application callable."""
        if not self._started:
            refused = self._start_or_refuse(start_response)
            if refused is not None:
                return refused
        app = self.app
        request = wsgi_request(self.request_class, app, environ)
        response = app.handle_sync(request) if app._middleware else dispatch_sync(app, request)
        status = response.status_code
        line = self.status_lines.get(status) or f"{status} Unknown"
        start_response(line, response.header_list())
        body: Iterable[bytes]
        if isinstance(response, StreamingResponse):
            body = self._stream(environ, response, request.method == "HEAD")
        elif request.method == "HEAD":
            body = []
        else:
            body = [response.body]
        tasks = request.background
        if tasks:  # some were added: the server's close() of the body runs them
            return self._with_tasks(body, tasks)
        return body
