"""The App: route table, configuration, lifecycle hooks and error handling, protocol-free."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

from duoweb._lazy import lazy_logger
from duoweb._serve import dispatch_sync
from duoweb.concurrency import ThreadPool, run_on_thread_loop
from duoweb.dependencies import DependencyOverrides
from duoweb.encoding import json_encode
from duoweb.endpoints import Endpoint, WebSocketEndpoint
from duoweb.errors import (
    ClientDisconnected,
    HTTPError,
    RequestValidationError,
    ValidationErrorItem,
)
from duoweb.middleware import async_chain, sync_chain
from duoweb.middleware import is_async as is_async_middleware
from duoweb.proxies import TrustedProxies
from duoweb.requests import Request
from duoweb.responses import Response, problem_response
from duoweb.routing import RouteDefinitionError, Router, build_path, template_parameters
from duoweb.wsgi import WSGIAdapter

if TYPE_CHECKING:
    # Built on first use (``App.asgi``, ``run_websocket``): a WSGI app never imports them.
    from duoweb.asgi import ASGIAdapter
    from duoweb.formdata import FormLimits
    from duoweb.websockets import WebSocket

H = TypeVar("H", bound=Callable[..., Any])
E = TypeVar("E", bound=BaseException)
Hook = Callable[[], Any]
ExceptionHandler = Callable[[Request, Any], "Response | Awaitable[Response]"]
R = TypeVar("R")

logger = lazy_logger("duoweb", globals())

DEFAULT_MAX_BODY_SIZE = 1024 * 1024


class ValidationRenderer(NamedTuple):
    """The app's own rendering of validation errors: status, media type and body function."""

    status: int
    media_type: str
    render: Callable[[list[ValidationErrorItem]], Any]


class _Chains(NamedTuple):
    """The middleware chains around the core, built once: sync (None if any is async), async."""

    sync: Callable[[Request], Response] | None
    async_: Callable[[Request], Awaitable[Response]]


class RouteInfo(NamedTuple):
    """One row of the route table, for introspection."""

    method: str
    path: str
    name: str
    is_async: bool


class App:
    """A duoweb application: define it once, serve it as WSGI (``app``) or ASGI (``app.asgi``).

    Called with two arguments the App is a PEP 3333 WSGI application; called with three it is
    an ASGI 3 application. ``app.wsgi`` and ``app.asgi`` are the single-protocol callables.
    """

    def __init__(
        self,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_query_params: int = 1000,
        max_path_length: int = 8192,
        thread_pool_size: int = 40,
        trusted_proxies: str | Iterable[str] | None = None,
        debug: bool = False,
        title: str = "duoweb API",
        version: str = "0.1.0",
        description: str | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        docs_assets_url: str | None = None,
        security_schemes: Mapping[str, Any] | None = None,
        servers: Iterable[Mapping[str, Any]] = (),
        form_limits: FormLimits | None = None,
    ) -> None:
        #: Largest request body accepted, in bytes (routes may set their own).
        self.max_body_size = max_body_size
        #: Bounds of form bodies: parts, files, sizes (None: duoweb's defaults; routes may
        #: set their own).
        self.form_limits = form_limits
        #: Most query parameters accepted before answering 400.
        self.max_query_params = max_query_params
        #: Longest path accepted before answering 414 URI Too Long.
        self.max_path_length = max_path_length
        #: Addresses/networks whose Forwarded / X-Forwarded-* headers are believed ("*": all).
        self.trusted_proxies = TrustedProxies.parse(trusted_proxies)
        #: Include exception details in 500 responses. Never enable in production.
        self.debug = debug
        self._router = Router()
        self._endpoints: list[Endpoint] = []
        self._names: dict[str, Endpoint] = {}
        self._startup_hooks: list[Hook] = []
        self._shutdown_hooks: list[Hook] = []
        self._exception_handlers: dict[type[BaseException], ExceptionHandler] = {}
        self._handler_cache: dict[type[BaseException], ExceptionHandler | None] = {}
        #: provider -> replacement for Depends(provider), e.g. fakes in tests.
        self.dependency_overrides = DependencyOverrides()
        self._validation_renderer: ValidationRenderer | None = None
        self._middleware: list[Callable[..., Any]] = []
        self._ws_router = Router()
        self._ws_endpoints: list[WebSocketEndpoint] = []
        self._warned_websocket_under_wsgi = False
        self._chains: _Chains | None = None
        self.thread_pool = ThreadPool(thread_pool_size)
        #: OpenAPI document metadata: API title, version and description.
        self.title = title
        self.version = version
        self.description = description
        #: Where the OpenAPI document and the interactive docs page are served (None: off).
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        #: Load the docs page's Swagger UI assets from this URL instead of the installed package.
        self.docs_assets_url = docs_assets_url
        #: OpenAPI security schemes by name (components/securitySchemes).
        self.security_schemes = dict(security_schemes or {})
        self.servers = [dict(server) for server in servers]
        self._openapi_cache: dict[str, dict[str, Any]] = {}
        #: The PEP 3333 WSGI callable for this app.
        self.wsgi = WSGIAdapter(self)
        if openapi_url is not None or docs_url is not None:
            from duoweb.doc_routes import install_routes

            install_routes(self)

    @functools.cached_property
    def asgi(self) -> ASGIAdapter:
        """The ASGI 3 callable for this app (http, lifespan and websocket scopes).

        Built on first access, so a WSGI-only process never imports the ASGI side; every
        access returns the same object.
        """
        from duoweb.asgi import ASGIAdapter

        adapter: ASGIAdapter = self.__dict__.setdefault("asgi", ASGIAdapter(self))
        return adapter

    # --- serving -----------------------------------------------------------------------------

    @overload
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any], /) -> Any: ...
    @overload
    def __call__(self, scope: dict[str, Any], receive: Any, send: Any, /) -> Awaitable[None]: ...
    def __call__(self, *args: Any) -> Any:
        """Serve WSGI when called with (environ, start_response), ASGI with three arguments."""
        if len(args) == 2:
            return self.wsgi(*args)
        return self.asgi(*args)

    # --- registration ------------------------------------------------------------------------

    def route(
        self,
        path: str,
        methods: Iterable[str] = ("GET",),
        *,
        name: str | None = None,
        status_code: int = 200,
        max_body_size: int | None = None,
        inline: bool = False,
        tags: Iterable[str] = (),
        summary: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        operation_id: str | None = None,
        include_in_schema: bool = True,
        security: Iterable[Mapping[str, Iterable[str]]] | None = None,
        responses: Mapping[int, Any] | None = None,
        form_limits: FormLimits | None = None,
    ) -> Callable[[H], H]:
        """Register the decorated handler for ``methods`` at the path template ``path``.

        ``inline=True`` runs a ``def`` handler (and its ``def`` dependencies) directly on the
        ASGI event loop instead of the thread pool: only for code that never blocks.
        ``max_body_size`` and ``form_limits`` override the app's for this route. The other
        keywords describe the operation in the OpenAPI document.
        """
        method_tuple = tuple(dict.fromkeys(m.upper() for m in methods))

        def register(handler: H) -> H:
            # The scope applying the decorator: postponed annotations may name its locals.
            scope = sys._getframe(1).f_locals
            endpoint = Endpoint(
                handler,
                template=path,
                template_params=template_parameters(path),
                methods=method_tuple,
                name=name or handler.__name__,
                status_code=status_code,
                max_body_size=self.max_body_size if max_body_size is None else max_body_size,
                inline=inline,
                overrides=self.dependency_overrides,
                tags=tuple(tags),
                summary=summary,
                description=description,
                deprecated=deprecated,
                operation_id=operation_id,
                include_in_schema=include_in_schema,
                security=None if security is None else [dict(req) for req in security],
                responses=dict(responses or {}),
                localns=scope,
                form_limits=self.form_limits if form_limits is None else form_limits,
            )
            known = self._names.get(endpoint.name)
            if known is not None and known.template != path:
                raise RouteDefinitionError(
                    f"route name {endpoint.name!r} is used by {known.template!r} and {path!r}; "
                    "pass name= to tell them apart"
                )
            self._router.add(path, method_tuple, endpoint, endpoint.param_types)
            self._names.setdefault(endpoint.name, endpoint)
            self._endpoints.append(endpoint)
            self._openapi_cache.clear()
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a GET handler (HEAD is answered from it automatically)."""
        return self.route(path, ("GET",), **options)

    def post(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a POST handler."""
        return self.route(path, ("POST",), **options)

    def put(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a PUT handler."""
        return self.route(path, ("PUT",), **options)

    def patch(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a PATCH handler."""
        return self.route(path, ("PATCH",), **options)

    def delete(self, path: str, **options: Any) -> Callable[[H], H]:
        """Register a DELETE handler."""
        return self.route(path, ("DELETE",), **options)

    def websocket(
        self, path: str, *, name: str | None = None, max_message_size: int = 1024 * 1024
    ) -> Callable[[H], H]:
        """Register an ``async def`` WebSocket handler at ``path`` (served under ASGI only).

        The handler takes a ``WebSocket`` parameter plus any path parameters, by name.
        """

        def register(handler: H) -> H:
            endpoint = WebSocketEndpoint(
                handler, path, name or handler.__name__, max_message_size, sys._getframe(1).f_locals
            )
            self._ws_router.add(path, ("GET",), endpoint, endpoint.param_types)
            self._ws_endpoints.append(endpoint)
            return handler

        return register

    def match_websocket(self, path: str) -> tuple[WebSocketEndpoint, dict[str, Any]] | None:
        """The WebSocket route for ``path`` and its converted parameters, if any."""
        endpoint, params = self._ws_router.match("GET", path)
        if endpoint is None:
            return None
        assert isinstance(endpoint, WebSocketEndpoint)
        return endpoint, params

    async def run_websocket(self, endpoint: WebSocketEndpoint, websocket: WebSocket) -> None:
        """Run a WebSocket handler; errors close the connection (1011) and are logged."""
        from duoweb.websockets import CloseCode, WebSocketDisconnect, WebSocketState

        arguments = dict(websocket.path_params)
        arguments[endpoint.websocket_param] = websocket
        try:
            await endpoint.handler(**arguments)
        except WebSocketDisconnect:
            return
        except Exception:
            logger.exception("WebSocket handler %s failed", endpoint.name)
            code = CloseCode.INTERNAL_ERROR if websocket.state is WebSocketState.OPEN else 1008
            await websocket.close(code)
            return
        await websocket.close()

    def middleware(self, middleware: H) -> H:
        """Add ``middleware(request, call_next) -> Response`` (def or async def).

        The first added is the outermost: it sees the request first and the response last.
        Middleware wraps routing too, so it also sees 404 and 405 answers.
        """
        self._middleware.append(middleware)
        self._chains = None
        return middleware

    def on_startup(self, hook: H) -> H:
        """Run ``hook`` (def or async def) once per worker process before it serves."""
        self._startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: H) -> H:
        """Run ``hook`` (def or async def) when the worker process stops."""
        self._shutdown_hooks.append(hook)
        return hook

    def exception_handler(
        self, exc_type: type[E]
    ) -> Callable[[Callable[[Request, E], Any]], Callable[[Request, E], Any]]:
        """Answer exceptions of ``exc_type`` (and subclasses) with the decorated handler."""

        def register(handler: Callable[[Request, E], Any]) -> Callable[[Request, E], Any]:
            self._exception_handlers[exc_type] = handler
            self._handler_cache.clear()
            return handler

        return register

    def validation_error_renderer(
        self, *, status: int = 422, media_type: str = "application/json"
    ) -> Callable[
        [Callable[[list[ValidationErrorItem]], R]], Callable[[list[ValidationErrorItem]], R]
    ]:
        """Render every request validation error with the decorated function, app-wide.

        The function gets the list of errors (loc/msg/type) and returns the body (encoded as
        JSON); its return annotation is the schema the OpenAPI document shows for it.
        """

        def register(
            render: Callable[[list[ValidationErrorItem]], R],
        ) -> Callable[[list[ValidationErrorItem]], R]:
            self._validation_renderer = ValidationRenderer(status, media_type, render)
            self._openapi_cache.clear()  # the 422 schema in the document changes
            return render

        return register

    # --- introspection -----------------------------------------------------------------------

    def routes(self) -> list[RouteInfo]:
        """Every (method, path template, handler name, is_async) in registration order."""
        return [
            RouteInfo(method, endpoint.template, endpoint.name, endpoint.is_async)
            for endpoint in self._endpoints
            for method in endpoint.methods
        ]

    def openapi(self, version: str = "3.1") -> dict[str, Any]:
        """The OpenAPI document of this app ("3.1" or "3.0"), built once from the routes."""
        document = self._openapi_cache.get(version)
        if document is None:
            from duoweb.openapi import build_document

            document = self._openapi_cache[version] = build_document(self, version)
        return document

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in."""
        endpoint = self._names.get(name)
        if endpoint is None:
            raise LookupError(f"no route is named {name!r}")
        return build_path(endpoint.template, params, endpoint.param_types)

    # --- lifecycle (called by the protocol adapters and the test client) ---------------------

    def run_startup_sync(self) -> None:
        """Run the startup hooks from synchronous code."""
        self._router.compile()
        self._ws_router.compile()
        for hook in self._startup_hooks:
            result = hook()
            if inspect.isawaitable(result):
                run_on_thread_loop(_as_coroutine(result))

    def run_shutdown_sync(self) -> None:
        """Run the shutdown hooks from synchronous code, all of them even if one fails."""
        for hook in self._shutdown_hooks:
            try:
                result = hook()
                if inspect.isawaitable(result):
                    run_on_thread_loop(_as_coroutine(result))
            except Exception:
                logger.exception("shutdown hook %s failed", getattr(hook, "__qualname__", hook))
        self.thread_pool.shutdown()

    async def run_startup_async(self) -> None:
        """Run the startup hooks on the running event loop."""
        self._router.compile()
        self._ws_router.compile()
        for hook in self._startup_hooks:
            result = hook()
            if inspect.isawaitable(result):
                await result

    async def run_shutdown_async(self) -> None:
        """Run the shutdown hooks on the running event loop, all of them even if one fails."""
        for hook in self._shutdown_hooks:
            try:
                result = hook()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("shutdown hook %s failed", getattr(hook, "__qualname__", hook))
        self.thread_pool.shutdown()

    # --- the request path --------------------------------------------------------------------

    def _unrouted(
        self, request: Request, allowed: tuple[str, ...] | None, *, asgi: bool
    ) -> Response:
        """The answer when no handler matched: 404, 405 + Allow, or 204 + Allow for OPTIONS."""
        method = request.method
        if allowed is None:
            if self._ws_endpoints and self.match_websocket(request.path) is not None:
                return self._websocket_over_http(asgi)
            return problem_response(HTTPError(404, "No route matches this path."))
        allow = ", ".join(allowed)
        if method == "OPTIONS":
            return Response(status_code=204, headers={"allow": allow})
        return problem_response(
            HTTPError(405, f"{method} is not allowed here.", headers={"allow": allow})
        )

    def _path_too_long(self) -> Response:
        return problem_response(
            HTTPError(414, f"The path is longer than {self.max_path_length} characters.")
        )

    def _websocket_over_http(self, asgi: bool) -> Response:
        if asgi:
            return problem_response(
                HTTPError(426, "This is a WebSocket endpoint.", headers={"upgrade": "websocket"})
            )
        if not self._warned_websocket_under_wsgi:
            self._warned_websocket_under_wsgi = True
            logger.warning("a WebSocket route was requested, but WSGI cannot serve WebSockets")
        return problem_response(
            HTTPError(
                501,
                "WebSocket routes need an ASGI server (e.g. hypercorn module:app.asgi); "
                "this app is being served through WSGI.",
            )
        )

    def handle_sync(self, request: Request) -> Response:
        """Answer ``request`` synchronously (WSGI mode); never raises for a client's input."""
        if not self._middleware:
            return self._dispatch_sync(request)
        chains = self._chains or self._build_chains()
        if chains.sync is None:  # some middleware is async: run the async chain on this thread
            return run_on_thread_loop(self._through_async_chain(chains.async_, request))
        try:
            return chains.sync(request)
        except Exception as exc:
            return self._error_response_sync(request, exc)

    async def handle_async(self, request: Request) -> Response:
        """Answer ``request`` on the event loop (ASGI mode); never raises for a client's input."""
        if not self._middleware:
            return await self._dispatch_async(request)
        chains = self._chains or self._build_chains()
        return await self._through_async_chain(chains.async_, request)

    async def _through_async_chain(
        self, chain: Callable[[Request], Awaitable[Response]], request: Request
    ) -> Response:
        try:
            return await chain(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return await self._error_response_async(request, exc)

    def _build_chains(self) -> _Chains:
        all_sync = not any(is_async_middleware(m) for m in self._middleware)
        chains = _Chains(
            sync_chain(self._middleware, self._dispatch_sync) if all_sync else None,
            async_chain(self._middleware, self._dispatch_async, self.thread_pool),
        )
        self._chains = chains
        return chains

    def _dispatch_sync(self, request: Request) -> Response:
        """Route and run the handler synchronously; handler errors become responses."""
        return dispatch_sync(self, request)

    async def _dispatch_async(self, request: Request) -> Response:
        """Route and run the handler on the event loop; handler errors become responses."""
        answer = self._start_async(request)
        return answer if isinstance(answer, Response) else await answer

    def _start_async(self, request: Request) -> Response | Coroutine[Any, Any, Response]:
        """The answer when nothing needs awaiting, else the coroutine that will produce it.

        A handler with nothing to await (path parameters only, or sync and inline with no
        body) then costs the ASGI adapter no coroutine of duoweb's.
        """
        endpoint: Any
        found: Any
        try:
            path = request.path
            if len(path) > self.max_path_length:
                return self._path_too_long()
            endpoint, found = self._router.match(request.method, path)
            if endpoint is None:
                return self._unrouted(request, found, asgi=True)
            request.path_params = found
            if endpoint.direct and endpoint.inline:  # path parameters only
                result = endpoint.handler(**found)
                return result if isinstance(result, Response) else endpoint.render(result)
            if endpoint.sync_inline and not endpoint.reads_body:
                return endpoint.respond_sync(request)  # type: ignore[no-any-return]
        except ClientDisconnected:
            raise
        except Exception as exc:
            return self._error_response_async(request, exc)
        return self._finish_async(request, endpoint)

    async def _finish_async(self, request: Request, endpoint: Any) -> Response:
        """The part of dispatch that awaits: the body, then the handler (on the loop or pool)."""
        try:
            if endpoint.reads_body:
                request.body = await request._receive_body(endpoint.max_body_size)
            if endpoint.sync_inline:  # nothing to await or to hand to the pool
                return endpoint.respond_sync(request)  # type: ignore[no-any-return]
            return await endpoint.respond_async(request, self.thread_pool)  # type: ignore[no-any-return]
        except ClientDisconnected:
            raise
        except Exception as exc:
            return await self._error_response_async(request, exc)

    # --- errors ------------------------------------------------------------------------------

    def _find_exception_handler(self, exc_type: type[BaseException]) -> ExceptionHandler | None:
        try:
            return self._handler_cache[exc_type]
        except KeyError:
            pass
        found = None
        for klass in exc_type.__mro__:
            found = self._exception_handlers.get(klass)
            if found is not None:
                break
        self._handler_cache[exc_type] = found
        return found

    def _default_error_response(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, RequestValidationError) and self._validation_renderer is not None:
            status, media_type, render = self._validation_renderer
            try:
                body = json_encode(render(exc.errors))
            except Exception as failure:
                return self._handler_failed(request, exc, failure)
            return Response(body, status_code=status, media_type=media_type)
        if isinstance(exc, HTTPError):
            try:
                return problem_response(exc)
            except Exception as failure:  # unsafe headers, extensions msgspec cannot encode
                logger.error("cannot render %r as a problem response", exc, exc_info=failure)
                return problem_response(
                    HTTPError(500, "The server could not complete the request.")
                )
        logger.error("unhandled exception in %s %s", request.method, request.path, exc_info=exc)
        if self.debug:
            import traceback

            detail = "".join(traceback.format_exception(exc))
            return problem_response(HTTPError(500, detail))
        return problem_response(HTTPError(500, "The server could not complete the request."))

    def _handler_failed(self, request: Request, exc: Exception, failure: Exception) -> Response:
        logger.error("exception handler for %s failed", type(exc).__name__, exc_info=failure)
        return problem_response(HTTPError(500, "The server could not complete the request."))

    def _error_response_sync(self, request: Request, exc: Exception) -> Response:
        handler = self._find_exception_handler(type(exc))
        if handler is None:
            return self._default_error_response(request, exc)
        try:
            result = handler(request, exc)
            if inspect.isawaitable(result):
                result = run_on_thread_loop(_as_coroutine(result))
            return _checked_response(handler, result)
        except Exception as failure:
            return self._handler_failed(request, exc, failure)

    async def _error_response_async(self, request: Request, exc: Exception) -> Response:
        handler = self._find_exception_handler(type(exc))
        if handler is None:
            return self._default_error_response(request, exc)
        try:
            result = handler(request, exc)
            if inspect.isawaitable(result):
                result = await result
            return _checked_response(handler, result)
        except Exception as failure:
            return self._handler_failed(request, exc, failure)


def _checked_response(handler: Any, result: Any) -> Response:
    if not isinstance(result, Response):
        raise TypeError(f"exception handler {handler!r} returned {result!r}, not a Response")
    return result


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
