# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled request path: the twin of ``duoweb._serve_py``.

Same API and behaviour as the pure module (the typed source of truth and the reference); a
request crosses the WSGI adapter and the dispatcher here without a Python frame of duoweb's.
"""

from duoweb._speedups._messages cimport RequestCore, new_wsgi_request

from duoweb.responses import Response
from duoweb.streaming import StreamingResponse

__all__ = ["WSGICore", "dispatch_sync"]


cdef object _dispatch(app, router, RequestCore request):
    try:
        path = request.path
        if len(path) > app.max_path_length:
            return app._path_too_long()
        endpoint, found = router.match(request.method, path)
        if endpoint is None:
            return app._unrouted(request, found, asgi=False)
        request.path_params = found
        if endpoint.direct:  # only path parameters, sync handler: call it right here
            result = endpoint.handler(**found)
            return result if isinstance(result, Response) else endpoint.render(result)
        if endpoint.reads_body:
            request.body = request._read_body(endpoint.max_body_size)
        return endpoint.respond_sync(request)
    except Exception as exc:
        return app._error_response_sync(request, exc)


def dispatch_sync(app, request):
    """Route and run the handler synchronously; handler errors become responses."""
    return _dispatch(app, app._router, request)


cdef class WSGICore:
    """The WSGI callable's per-request path; the adapter subclass adds the lifecycle."""

    cdef public bint _started
    cdef public object app
    cdef public type request_class
    cdef public dict status_lines
    # The app's router and middleware list: created with the app, never replaced.
    cdef object _router
    cdef object _middleware

    def __init__(self, app, request_class, status_lines):
        self.app = app
        self.request_class = request_class
        self.status_lines = status_lines
        self._started = False
        self._router = app._router
        self._middleware = app._middleware

    def _start_or_refuse(self, start_response):
        """Run the startup hooks; None when serving may go on, else the answer already begun."""
        raise NotImplementedError

    def _stream(self, environ, response, head):
        """The body iterable of a streaming response."""
        raise NotImplementedError

    def __call__(self, environ, start_response):
        """The WSGI application callable."""
        if not self._started:
            refused = self._start_or_refuse(start_response)
            if refused is not None:
                return refused
        app = self.app
        cdef RequestCore request = new_wsgi_request(self.request_class, app, environ)
        if self._middleware:
            response = app.handle_sync(request)
        else:
            response = _dispatch(app, self._router, request)
        status = response.status_code
        line = self.status_lines.get(status) or f"{status} Unknown"
        start_response(line, response.header_list())
        if isinstance(response, StreamingResponse):
            return self._stream(environ, response, request.method == "HEAD")
        if request.method == "HEAD":
            return []
        return [response.body]

