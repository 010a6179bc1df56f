"""The request path: the synchronous and the asynchronous dispatcher, and the WSGI call.

``Dispatcher`` routes a request and answers it, in either mode, through one entry point each:
``dispatch_sync`` (the WSGI adapter's) and ``dispatch_async`` (the ASGI adapter's). It owns the
middleware check: with no app middleware it routes at once, else through the chains it
builds once. Handler errors become responses through the app's ``ErrorResponder``; requests
no route takes are answered by ``Unrouted``.

``duoweb._speedups._serve`` compiles the same API, so a WSGI request crosses the adapter and
the dispatcher without a Python frame of duoweb's own; the handler is the first Python code it
runs. ``WSGIAdapter`` (startup, shutdown, streaming) subclasses ``WSGICore``. This module is
the typed source of truth and the fallback when the extension is not built.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from time import perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec

from duoweb._messages import wsgi_request
from duoweb.errors import ClientDisconnected
from duoweb.responses import Response
from duoweb.streaming import StreamingResponse
from duoweb.unrouted import path_too_long

if TYPE_CHECKING:
    from duoweb.app import App
    from duoweb.concurrency import ThreadPool
    from duoweb.endpoints import Endpoint
    from duoweb.error_responses import ErrorResponder
    from duoweb.requests import Request
    from duoweb.routing import RouteTable
    from duoweb.unrouted import Unrouted
    from duoweb.wsgi import StartResponse, WSGIRequest

__all__ = [
    "BackgroundTasks",
    "Chains",
    "Dispatcher",
    "WSGICore",
    "call_with_tasks",
    "finished_tasks",
    "tasks_for",
]

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
    handler: Callable[..., Any], found: dict[str, Any], name: str, request: Request
) -> Any:
    """Call a direct handler with the router's ``found`` and a new BackgroundTasks as ``name``.

    The tasks are kept on ``request.background`` only if the handler added some.
    """
    tasks = BackgroundTasks()
    result = handler(**found, **{name: tasks})
    if tasks:
        request.background = tasks
    return result


def tasks_for(request: Request) -> BackgroundTasks:
    """The request's BackgroundTasks: the first caller (handler or dependency) makes them.

    (The compiled twin reuses an unused one of an earlier request that nothing holds.)
    """
    tasks = request.background
    if tasks is None:
        tasks = request.background = BackgroundTasks()
    return tasks


def finished_tasks(request: Request) -> BackgroundTasks | None:
    """The request's tasks to run now that its response is sent, or None if none was added.

    (The compiled twin takes an unused BackgroundTasks that only the request holds off it,
    to be the next request's.)
    """
    tasks = request.background
    return tasks if tasks else None


#: What ``Dispatcher.dispatch_async`` returns: the answer, or the coroutine producing it.
AsyncAnswer = Response | Coroutine[Any, Any, Response]

#: Told of every answered request: ``observer(request, response, started)``, ``started``
#: being the ``time.perf_counter()`` taken when dispatch began (metrics, for one). The
#: compiled dispatcher calls a ``duoweb.request_observer.RequestObserver``'s ``observe`` as
#: a C method instead, when its ``__call__`` is the base's (so calling it is the same).
Observer = Callable[["Request", Response, float], None]


class Chains(NamedTuple):
    """The middleware chains around the dispatcher: sync (None if any is async), async."""

    sync: Callable[[Request], Response] | None
    async_: Callable[[Request], Awaitable[Response]]


class Dispatcher:
    """Routes one app's requests to their endpoints, in either mode; errors become answers."""

    __slots__ = (
        "_chains",
        "_counting",
        "errors",
        "in_flight",
        "max_path_length",
        "middleware",
        "observer",
        "pool",
        "router",
        "unrouted",
    )

    def __init__(
        self,
        router: RouteTable[Endpoint],
        middleware: list[Callable[..., Any]],
        errors: ErrorResponder,
        unrouted: Unrouted,
        pool: ThreadPool,
        max_path_length: int,
    ) -> None:
        #: The app's HTTP route table.
        self.router = router
        #: The app's middleware list (outermost first), shared with the App that adds to it.
        self.middleware = middleware
        #: Turns handler errors into responses.
        self.errors = errors
        #: Answers 404/405/OPTIONS and WebSocket paths requested over HTTP.
        self.unrouted = unrouted
        #: Runs ``def`` handlers and middleware under ASGI.
        self.pool = pool
        #: Longest path routed; longer ones are answered 414.
        self.max_path_length = max_path_length
        self._chains: Chains | None = None
        #: Called after each request is answered, when set (None: no cost at all).
        self.observer: Observer | None = None
        #: Requests being dispatched now, counted only while an observer is set.
        self.in_flight = 0
        self._counting = threading.Lock()

    def middleware_changed(self) -> None:
        """Forget the chains built so far: the app's middleware list has changed."""
        self._chains = None

    def chains(self) -> Chains:
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

    def dispatch_sync(self, request: Request) -> Response:
        """Answer ``request`` synchronously (WSGI mode); never raises for a client's input."""
        observer = self.observer
        if observer is None:
            return self._answer_sync(request)
        started = perf_counter()
        self._count(1)
        try:
            response = self._answer_sync(request)
        finally:
            self._count(-1)
        observer(request, response, started)
        return response

    def _count(self, step: int) -> None:
        with self._counting:
            self.in_flight += step

    def _answer_sync(self, request: Request) -> Response:
        if not self.middleware:
            return self.route_sync(request)
        chain = self.chains().sync
        if chain is None:  # some middleware is async: run the async chain on this thread
            from duoweb.concurrency import run_on_thread_loop

            return run_on_thread_loop(self._through_async_chain(request))
        try:
            return chain(request)
        except Exception as exc:
            return self.errors.respond_sync(request, exc)

    def dispatch_async(self, request: Request) -> AsyncAnswer:
        """Answer ``request`` in ASGI mode: the response, or the coroutine that will make it.

        Only ``ClientDisconnected`` leaves it, raised or from the coroutine. A handler with
        nothing to await (path parameters only, or sync and inline with no body) then costs
        the ASGI adapter no coroutine of duoweb's.
        """
        observer = self.observer
        if observer is None:
            return self._answer_async(request)
        started = perf_counter()
        self._count(1)
        try:
            answer = self._answer_async(request)
        except BaseException:
            self._count(-1)
            raise
        if isinstance(answer, Response):
            self._count(-1)
            observer(request, answer, started)
            return answer
        return self._observe_later(request, answer, observer, started)

    async def _observe_later(
        self,
        request: Request,
        answer: Awaitable[Response],
        observer: Observer,
        started: float,
    ) -> Response:
        try:
            response = await answer
        finally:
            self._count(-1)
        observer(request, response, started)
        return response

    def _answer_async(self, request: Request) -> AsyncAnswer:
        if not self.middleware:
            return self.start_async(request)
        return self._through_async_chain(request)

    def route_sync(self, request: Request) -> Response:
        """Route and run the handler synchronously; handler errors become responses."""
        endpoint: Endpoint | None
        try:
            path = request.path
            if len(path) > self.max_path_length:
                return path_too_long(self.max_path_length)
            endpoint, found = self.router.match(request.method, path)
            if endpoint is None:
                return self.unrouted.answer(request, found, asgi=False)
            request.path_params = found
            request.endpoint = endpoint
            names = endpoint.direct
            if names is not None:  # only path parameters, sync handler: call it right here
                if len(names) == len(found):
                    result = endpoint.handler(**found)
                else:  # ...and a BackgroundTasks parameter, the last name
                    result = call_with_tasks(endpoint.handler, found, names[-1], request)
                return result if isinstance(result, Response) else endpoint.render(result)
            gate = endpoint.gate
            if gate is not None:  # one header credential, then as above: check it right here
                result = gate.call(found, request)
                return result if isinstance(result, Response) else endpoint.render(result)
            if endpoint.reads_body:
                request.body = request.read_body(endpoint.max_body_size)
            return endpoint.respond_sync(request)
        except Exception as exc:
            return self.errors.respond_sync(request, exc)

    async def route_async(self, request: Request) -> Response:
        """Route and run the handler on the event loop; handler errors become responses."""
        answer = self.start_async(request)
        return answer if isinstance(answer, Response) else await answer

    def start_async(self, request: Request) -> AsyncAnswer:
        """Route; answer now when nothing needs awaiting, else return the coroutine that will."""
        endpoint: Endpoint | None
        try:
            path = request.path
            if len(path) > self.max_path_length:
                return path_too_long(self.max_path_length)
            endpoint, found = self.router.match(request.method, path)
            if endpoint is None:
                return self.unrouted.answer(request, found, asgi=True)
            request.path_params = found
            request.endpoint = endpoint
            names = endpoint.direct_inline
            if names is not None:  # path parameters only
                if len(names) == len(found):
                    result = endpoint.handler(**found)
                else:  # ...and a BackgroundTasks parameter, the last name
                    result = call_with_tasks(endpoint.handler, found, names[-1], request)
                return result if isinstance(result, Response) else endpoint.render(result)
            gate = endpoint.gate_inline
            if gate is not None:  # one header credential, then as above
                result = gate.call(found, request)
                return result if isinstance(result, Response) else endpoint.render(result)
            if endpoint.sync_inline and not endpoint.reads_body:
                return endpoint.respond_sync(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return self.errors.respond_async(request, exc)
        return self._finish_async(request, endpoint)

    async def _finish_async(self, request: Request, endpoint: Endpoint) -> Response:
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

    async def _through_async_chain(self, request: Request) -> Response:
        try:
            return await self.chains().async_(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return await self.errors.respond_async(request, exc)


class WSGICore:
    """The WSGI callable's per-request path; the adapter subclass adds the lifecycle."""

    __slots__ = ("app", "dispatcher", "request_class", "started", "status_lines")

    def __init__(
        self,
        app: App,
        dispatcher: Dispatcher,
        request_class: type[WSGIRequest],
        status_lines: dict[int, str],
    ) -> None:
        self.app = app
        #: Answers each request (the app's, created with it and never replaced).
        self.dispatcher = dispatcher
        #: The request type built for each environ.
        self.request_class = request_class
        #: "200 OK"-style status lines by code.
        self.status_lines = status_lines
        #: This worker's startup has run.
        self.started = False

    def start_or_refuse(self, start_response: StartResponse) -> list[bytes] | None:
        """Run the startup hooks; None when serving may go on, else the answer already begun."""
        raise NotImplementedError

    def stream_body(
        self, environ: dict[str, Any], response: StreamingResponse, head: bool
    ) -> Iterable[bytes]:
        """The body iterable of a streaming response."""
        raise NotImplementedError

    def body_with_tasks(self, body: Iterable[bytes], tasks: BackgroundTasks) -> Iterable[bytes]:
        """``body``, whose ``close()`` (called by the server once it is sent) runs ``tasks``.

        The one description of this hook: the compiled twin and ``WSGIAdapter``, which
        implements it, refer here.
        """
        raise NotImplementedError

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application callable."""
        if not self.started:
            refused = self.start_or_refuse(start_response)
            if refused is not None:
                return refused
        request = wsgi_request(self.request_class, self.app, environ)
        response = self.dispatcher.dispatch_sync(request)
        status = response.status_code
        line = self.status_lines.get(status) or f"{status} Unknown"
        start_response(line, response.header_list())
        body: Iterable[bytes]
        if isinstance(response, StreamingResponse):
            body = self.stream_body(environ, response, request.method == "HEAD")
        elif request.method == "HEAD":
            body = []
        else:
            body = [response.body]
        if request.background is not None:
            tasks = finished_tasks(request)
            if tasks is not None:  # some were added: the server's close() of the body runs them
                return self.body_with_tasks(body, tasks)
        return body
