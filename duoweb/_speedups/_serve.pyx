# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled request path: the twin of ``duoweb._serve_py``.

Same API and behaviour as the pure module (the typed source of truth and the reference); a
WSGI request crosses the adapter and the dispatcher here without a Python frame of duoweb's.
"""

cimport cython
from cpython.object cimport Py_TYPE, PyObject_TypeCheck, PyTypeObject
from cpython.ref cimport Py_REFCNT

from duoweb._speedups._calls cimport call_by_names
from duoweb._speedups._credentials cimport CredentialGate
from duoweb._speedups._messages cimport RequestCore, ResponseCore, new_wsgi_request
from duoweb._speedups._observer cimport RequestObserver, perf_seconds
from duoweb._speedups._router cimport Router


cdef extern from "Python.h":
    Py_ssize_t PyDict_GET_SIZE(object mapping)
    Py_ssize_t PyTuple_GET_SIZE(object tuple)

from collections import namedtuple

from duoweb.errors import ClientDisconnected
from duoweb.responses import Response
from duoweb.streaming import StreamingResponse
from duoweb.unrouted import path_too_long

__all__ = [
    "BackgroundTasks",
    "Chains",
    "Dispatcher",
    "WSGICore",
    "call_with_tasks",
    "finished_tasks",
    "tasks_for",
]

#: The middleware chains around the dispatcher: sync (None if any is async), async.
Chains = namedtuple("Chains", ["sync", "async_"])


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


cdef inline bint _is_head(str method):
    """True for HEAD; any other length (a GET) is told apart without comparing strings."""
    return method is not None and len(method) == 4 and method == "HEAD"


# An unused BackgroundTasks nobody else holds: the next request that takes one (a direct call
# or ``tasks_for``) gets it instead of allocating one. Taking it (read, then the slot emptied)
# and putting it back are plain C reads and writes with no Python code between them, which the
# GIL makes atomic, so no two requests ever hold it at once, on any thread or event loop.
cdef BackgroundTasks _spare_tasks = None


cdef inline BackgroundTasks _take_tasks():
    """The spare BackgroundTasks (the slot emptied), or a new one."""
    global _spare_tasks
    cdef BackgroundTasks tasks = _spare_tasks
    if tasks is None:
        return BackgroundTasks.__new__(BackgroundTasks)
    _spare_tasks = None
    return tasks


cdef inline object _call_direct(handler, tuple names, dict found, RequestCore request):
    """Call a DIRECT handler with keyword ``names``: the router's captures, then an empty
    BackgroundTasks when there is one name more than them (on ``request.background`` only if
    the handler added some; else kept as the spare if nothing else holds it). A
    BackgroundTasks alone goes by position (never keyword-only here: endpoints.py)."""
    if PyTuple_GET_SIZE(names) == PyDict_GET_SIZE(found):
        return call_by_names(handler, names, found, None, False)
    global _spare_tasks
    cdef BackgroundTasks tasks = _take_tasks()
    result = call_by_names(handler, names, found, tasks, True)
    if tasks._pending is not None:
        request.background = tasks
    elif Py_REFCNT(tasks) == 1:  # only this call holds it: the handler kept no reference
        _spare_tasks = tasks
    return result


cdef inline object _tasks_after(RequestCore request):
    """The tasks to run now that the response is sent, or None. An unused BackgroundTasks
    that only ``request.background`` holds is taken off it and kept as the spare."""
    global _spare_tasks
    tasks = request.background
    if tasks is None or not isinstance(tasks, BackgroundTasks):
        return None
    if (<BackgroundTasks>tasks)._pending is not None:
        return tasks
    # Held by request.background and this frame only: no handler, dependency or thread can
    # reach it once it is off the request, so the next request may have it.
    if Py_REFCNT(tasks) == 2 and type(tasks) is BackgroundTasks:
        request.background = None
        _spare_tasks = <BackgroundTasks>tasks
    return None


def tasks_for(RequestCore request not None):
    """The request's BackgroundTasks: the first caller (handler or dependency) makes them."""
    tasks = request.background
    if tasks is None:
        tasks = request.background = _take_tasks()
    return tasks


def finished_tasks(RequestCore request not None):
    """The request's tasks to run now that its response is sent, or None if none was added."""
    return _tasks_after(request)


cdef inline object _call_gated(endpoint, dict found, RequestCore request, bint asgi, bint* settled):
    """A GATED endpoint's answer: its credential checked and its handler called here.

    Any other endpoint is returned as it is, with ``settled[0]`` False.
    """
    gate = endpoint.gate_inline if asgi else endpoint.gate
    if gate is None:
        settled[0] = False
        return endpoint
    result = (<CredentialGate?>gate).call_handler(found, request)  # the gate holds the handler
    return result if isinstance(result, Response) else endpoint.render(result)


def call_with_tasks(handler, dict found, str name not None, RequestCore request):
    """Call a direct handler with the router's ``found`` and a new BackgroundTasks as ``name``.

    The tasks are kept on ``request.background`` only if the handler added some.
    """
    return _call_direct(handler, (*found, name), found, request)


cdef inline int _tell(observer, request, response, double started) except -1:
    """Tell ``observer`` of an answered request: a RequestObserver's own ``__call__`` is its
    ``observe``, called here as a C method; any other callable is called."""
    if Py_TYPE(observer).tp_call == (<PyTypeObject*>RequestObserver).tp_call:
        (<RequestObserver>observer).observe(request, response, started)
    else:
        observer(request, response, started)
    return 0


@cython.final
cdef class Dispatcher:
    """Routes one app's requests to their endpoints, in either mode; errors become answers."""

    cdef public object router
    cdef public list middleware
    cdef public object errors
    cdef public object unrouted
    cdef public object pool
    cdef public Py_ssize_t max_path_length
    cdef object _chains
    cdef public object observer
    cdef public Py_ssize_t in_flight

    def __init__(self, router, list middleware, errors, unrouted, pool, Py_ssize_t max_path_length):
        self.router = router
        self.middleware = middleware
        self.errors = errors
        self.unrouted = unrouted
        self.pool = pool
        self.max_path_length = max_path_length
        self._chains = None
        self.observer = None
        self.in_flight = 0

    def middleware_changed(self):
        """Forget the chains built so far: the app's middleware list has changed."""
        self._chains = None

    def chains(self):
        """The middleware chains around ``route_sync`` / ``route_async``, built once."""
        chains = self._chains
        if chains is None:
            from duoweb.middleware import async_chain, is_async, sync_chain

            all_sync = not any(is_async(m) for m in self.middleware)
            chains = self._chains = Chains(
                sync_chain(self.middleware, self.route_sync) if all_sync else None,
                async_chain(self.middleware, self.route_async, self.pool),
            )
        return chains

    cdef object _dispatch_sync(self, RequestCore request):
        cdef double started
        observer = self.observer
        if observer is None:
            return self._answer_sync(request)
        started = perf_seconds()
        self.in_flight += 1  # a C field changed under the GIL: each step is atomic, no lock
        try:
            response = self._answer_sync(request)
        finally:
            self.in_flight -= 1
        _tell(observer, request, response, started)
        return response

    cdef inline object _answer_sync(self, RequestCore request):
        if not self.middleware:
            return self._route_sync(request)
        chain = self.chains().sync
        if chain is None:  # some middleware is async: run the async chain on this thread
            from duoweb.concurrency import run_on_thread_loop

            return run_on_thread_loop(self._through_async_chain(request))
        try:
            return chain(request)
        except Exception as exc:
            return self.errors.respond_sync(request, exc)

    def dispatch_sync(self, request):
        """Answer ``request`` synchronously (WSGI mode); never raises for a client's input."""
        return self._dispatch_sync(request)

    def dispatch_async(self, request):
        """Answer ``request`` in ASGI mode: the response, or the coroutine that will make it.

        Only ``ClientDisconnected`` leaves it, raised or from the coroutine. A handler with
        nothing to await (path parameters only, or sync and inline with no body) then costs
        the ASGI adapter no coroutine of duoweb's.
        """
        cdef double started
        observer = self.observer
        if observer is None:
            return self._answer_async(request)
        started = perf_seconds()
        self.in_flight += 1
        try:
            answer = self._answer_async(request)
        except BaseException:
            self.in_flight -= 1
            raise
        if isinstance(answer, Response):
            self.in_flight -= 1
            _tell(observer, request, answer, started)
            return answer
        return self._observe_later(request, answer, observer, started)

    async def _observe_later(self, request, answer, observer, double started):
        try:
            response = await answer
        finally:
            self.in_flight -= 1
        _tell(observer, request, response, started)
        return response

    cdef inline object _answer_async(self, RequestCore request):
        if not self.middleware:
            return self._start_async(request)
        return self._through_async_chain(request)

    cdef inline object _route(self, RequestCore request, bint asgi, bint* settled):
        """Both modes' first steps: match the route, and call a DIRECT handler right here.

        Returns the answer when that settles the request (414, unrouted, a direct call's
        result), else the matched endpoint; ``settled[0]`` says which. May raise.
        """
        settled[0] = True
        path = request.path
        if len(path) > self.max_path_length:
            return path_too_long(self.max_path_length)
        router = self.router
        if type(router) is Router:  # the compiled table: matched without a Python call
            endpoint, found = (<Router>router).lookup(request.method, path)
        else:
            endpoint, found = router.match(request.method, path)
        if endpoint is None:
            return self.unrouted.answer(request, found, asgi=asgi)
        request.path_params = found
        request.endpoint = endpoint
        names = endpoint.direct_inline if asgi else endpoint.direct
        if names is None:
            return _call_gated(endpoint, <dict>found, request, asgi, settled)
        # Path parameters only (and maybe a BackgroundTasks), a def handler: call it here.
        result = _call_direct(endpoint.handler, <tuple>names, <dict>found, request)
        return result if isinstance(result, Response) else endpoint.render(result)

    cdef object _route_sync(self, RequestCore request):
        cdef bint settled
        try:
            routed = self._route(request, False, &settled)
            if settled:
                return routed
            endpoint = routed
            if endpoint.reads_body:
                request.body = request.read_body(endpoint.max_body_size)
            return endpoint.respond_sync(request)
        except Exception as exc:
            return self.errors.respond_sync(request, exc)

    def route_sync(self, request):
        """Route and run the handler synchronously; handler errors become responses."""
        return self._route_sync(request)

    async def route_async(self, request):
        """Route and run the handler on the event loop; handler errors become responses."""
        answer = self._start_async(request)
        return answer if isinstance(answer, Response) else await answer

    cdef object _start_async(self, RequestCore request):
        cdef bint settled
        try:
            routed = self._route(request, True, &settled)
            if settled:
                return routed
            endpoint = routed
            if endpoint.sync_inline and not endpoint.reads_body:
                return endpoint.respond_sync(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return self.errors.respond_async(request, exc)
        return self._finish_async(request, endpoint)

    def start_async(self, request):
        """Route; answer now when nothing needs awaiting, else return the coroutine that will."""
        return self._start_async(request)

    async def _finish_async(self, request, endpoint):
        """The part of dispatch that awaits: the body, then the handler (on the loop or pool)."""
        try:
            if endpoint.reads_body:
                request.body = await request.receive_body(endpoint.max_body_size)
            if endpoint.sync_inline:  # nothing to await or to hand to the pool
                return endpoint.respond_sync(request)
            return await endpoint.respond_async(request, self.pool)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return await self.errors.respond_async(request, exc)

    async def _through_async_chain(self, request):
        try:
            return await self.chains().async_(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return await self.errors.respond_async(request, exc)


cdef class WSGICore:
    """The WSGI callable's per-request path; the adapter subclass adds the lifecycle."""

    cdef public bint started
    cdef public object app
    cdef public Dispatcher dispatcher
    cdef public type request_class
    cdef public dict status_lines

    def __init__(self, app, Dispatcher dispatcher, request_class, status_lines):
        self.app = app
        self.dispatcher = dispatcher
        self.request_class = request_class
        self.status_lines = status_lines
        self.started = False

    def start_or_refuse(self, start_response):
        """Run the startup hooks; None when serving may go on, else the answer already begun."""
        raise NotImplementedError

    def stream_body(self, environ, response, head):
        """The body iterable of a streaming response."""
        raise NotImplementedError

    def body_with_tasks(self, body, tasks):
        """As ``duoweb._serve_py.WSGICore.body_with_tasks``."""
        raise NotImplementedError

    def __call__(self, environ, start_response):
        """The WSGI application callable."""
        if not self.started:
            refused = self.start_or_refuse(start_response)
            if refused is not None:
                return refused
        cdef RequestCore request = new_wsgi_request(self.request_class, self.app, environ)
        # Every answer is a Response: its fields are read in C, not through descriptors.
        cdef ResponseCore response = self.dispatcher._dispatch_sync(request)
        cdef str method = request.method
        status = response.status_code
        line = self.status_lines.get(status) or f"{status} Unknown"
        start_response(line, response.header_list())
        # A type check without isinstance's __class__ lookup, which a miss would pay.
        if PyObject_TypeCheck(response, <PyTypeObject*>StreamingResponse):
            body = self.stream_body(environ, response, method == "HEAD")
        elif _is_head(method):
            body = []
        else:
            body = [response.body]
        if request.background is not None:
            tasks = _tasks_after(request)
            if tasks is not None:
                return self.body_with_tasks(body, tasks)
        return body
