# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled request path: the twin of ``duoweb._serve_py``.

Same API and behaviour as the pure module (the typed source of truth and the reference); a
request crosses the WSGI adapter and the dispatcher here without a Python frame of duoweb's.
"""

cimport cython
from cpython.object cimport PyObject

from duoweb._speedups._messages cimport RequestCore, new_wsgi_request


cdef extern from "Python.h":
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf, object kwnames)

from duoweb.responses import Response
from duoweb.streaming import StreamingResponse

__all__ = ["BackgroundTasks", "WSGICore", "call_with_tasks", "dispatch_sync"]


@cython.freelist(8)
cdef class BackgroundTasks:
    """Calls to make after the response has been sent: ``tasks.add(send_mail, user_id)``.

    A handler (or dependency) gets one per request by taking a parameter annotated
    ``BackgroundTasks``; the tasks run in the order added, once the server has sent the whole
    response, and only if the handler returned (not when it raised).
    """

    # None until the first add(): a route that adds nothing allocates no list.
    cdef list _pending

    def add(self, function, /, *args, **kwargs):
        """Call ``function(*args, **kwargs)`` (``def`` or ``async def``) after the response."""
        if not callable(function):
            raise TypeError(f"BackgroundTasks.add() needs a callable, got {function!r}")
        if self._pending is None:
            self._pending = []
        self._pending.append((function, args, kwargs))

    @property
    def pending(self):
        """The queued calls, in order, as (function, args, kwargs)."""
        return list(self._pending or ())

    def __len__(self):
        return len(self._pending) if self._pending is not None else 0

    def __repr__(self):
        return f"<BackgroundTasks: {len(self)} queued>"


cdef inline object _call_with_tasks(handler, dict found, tuple names, RequestCore request):
    cdef PyObject* argv[1]
    cdef BackgroundTasks tasks = BackgroundTasks.__new__(BackgroundTasks)
    if found:  # the router's dict, new per request: lend it the tasks for the call
        name = names[0]
        found[name] = tasks
        try:
            result = handler(**found)
        finally:
            del found[name]
    else:  # nothing else to pass: the 1-tuple is the call's keyword names
        argv[0] = <PyObject*>tasks
        result = PyObject_Vectorcall(handler, argv, 0, names)
    if tasks._pending is not None:
        request.background = tasks
    return result


def call_with_tasks(handler, dict found, tuple names, RequestCore request):
    """Call a direct handler with a new BackgroundTasks as the parameter ``names[0]``.

    The tasks are kept on ``request.background`` only if the handler added some.
    """
    return _call_with_tasks(handler, found, names, request)


cdef object _dispatch(app, router, RequestCore request):
    try:
        path = request.path
        if len(path) > app.max_path_length:
            return app._path_too_long()
        endpoint, found = router.match(request.method, path)
        if endpoint is None:
            return app._unrouted(request, found, asgi=False)
        request.path_params = found
        direct = endpoint.direct
        if direct:  # only path parameters, sync handler: call it right here
            if direct is True:
                result = endpoint.handler(**found)
            else:  # ...and a BackgroundTasks parameter, named by ``direct`` (a 1-tuple)
                result = _call_with_tasks(endpoint.handler, found, <tuple>direct, request)
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

    def _with_tasks(self, body, tasks):
        """``body``, whose ``close()`` (called by the server once it is sent) runs ``tasks``."""
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
            body = self._stream(environ, response, request.method == "HEAD")
        elif request.method == "HEAD":
            body = []
        else:
            body = [response.body]
        tasks = request.background
        if (
            tasks is not None
            and isinstance(tasks, BackgroundTasks)
            and (<BackgroundTasks>tasks)._pending is not None
        ):
            return self._with_tasks(body, tasks)
        return body
