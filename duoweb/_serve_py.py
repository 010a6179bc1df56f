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

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from duoweb._messages import wsgi_request
from duoweb.responses import Response
from duoweb.streaming import StreamingResponse

if TYPE_CHECKING:
    from duoweb.app import App
    from duoweb.requests import Request
    from duoweb.wsgi import StartResponse, WSGIRequest


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
        if endpoint.direct:  # only path parameters, sync handler: call it right here
            result = endpoint.handler(**found)
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
        if isinstance(response, StreamingResponse):
            return self._stream(environ, response, request.method == "HEAD")
        if request.method == "HEAD":
            return []
        return [response.body]
