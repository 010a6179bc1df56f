"""The App: route table, configuration, lifecycle hooks and error handling, protocol-free."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, overload

from duoweb._lazy import lazy_logger
from duoweb._serve import BackgroundTasks, Dispatcher
from duoweb.concurrency import ThreadPool, run_on_thread_loop
from duoweb.dependencies import DependencyOverrides, Depends
from duoweb.endpoints import Endpoint, WebSocketEndpoint
from duoweb.entry import inspected_call
from duoweb.error_responses import ErrorResponder, ValidationRenderer
from duoweb.errors import HTTPError, UnsupportedInterfaceError, ValidationErrorItem
from duoweb.lifespan import Lifespan, LifespanError, LifespanFactory
from duoweb.proxies import TrustedProxies
from duoweb.requests import Request
from duoweb.route_decorators import RouteDecorators, RouteSpec, WebSocketSpec
from duoweb.routers import Router, checked_prefix, included_routes
from duoweb.routing import RouteDefinitionError, RouteTable, build_path, template_parameters
from duoweb.signatures import describe
from duoweb.unrouted import Unrouted
from duoweb.wsgi import WSGIAdapter

if TYPE_CHECKING:
    # Built on first use (``App.asgi``, ``run_websocket``): a WSGI app never imports them.
    from duoweb.asgi import ASGIAdapter
    from duoweb.formdata import FormLimits
    from duoweb.hosts import AllowedHosts
    from duoweb.mounts import Mount
    from duoweb.websockets import WebSocket

H = TypeVar("H", bound=Callable[..., Any])
E = TypeVar("E", bound=BaseException)
Hook = Callable[[], Any]
R = TypeVar("R")

logger = lazy_logger("duoweb", globals())

DEFAULT_MAX_BODY_SIZE = 1024 * 1024

#: Where an App is in its worker's life: see ``App.phase``.
Phase = Literal["created", "starting", "serving", "stopping", "stopped", "failed"]


class RouteInfo(NamedTuple):
    """One row of the route table, for introspection."""

    method: str
    path: str
    name: str
    is_async: bool


class App(RouteDecorators):
    """A duoweb application: define it once, serve it as WSGI or ASGI, the same object.

    Called with two arguments the App is a PEP 3333 WSGI application; called with three it is
    an ASGI 3 application (and with one, an ASGI 2 one). Servers that inspect ``app.__call__``
    to choose a protocol (Uvicorn, Hypercorn) see an ASGI 3 coroutine function. ``app.wsgi``
    and ``app.asgi`` are the single-protocol callables.
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
        allowed_hosts: str | Iterable[str] | None = None,
        disconnect_grace: float = 5.0,
        lifespan: LifespanFactory | None = None,
        startup_wait: float = 30.0,
        etag: bool = False,
    ) -> None:
        #: What the lifespan yielded, once this worker started (``AppState[T]`` parameters).
        self.state: Any = None
        #: ETags for every GET route that does not say otherwise (``etag=False``), as if
        #: each had ``etag=True``; set it before declaring routes.
        self.etag = etag
        self._phase: Phase = "created"
        self._lifespan = None if lifespan is None else Lifespan(lifespan)
        #: Largest request body accepted, in bytes (routes may set their own).
        self.max_body_size = max_body_size
        #: Bounds of form bodies: parts, files, sizes (None: duoweb's defaults; routes may
        #: set their own).
        self.form_limits = form_limits
        #: Most query parameters accepted before answering 400.
        self.max_query_params = max_query_params
        #: Addresses/networks whose Forwarded / X-Forwarded-* headers are believed ("*": all).
        self.trusted_proxies = TrustedProxies.parse(trusted_proxies)
        #: The hosts this app serves (None: any valid host); other requests are a 400.
        self.allowed_hosts: AllowedHosts | None = None
        #: ASGI: seconds a streaming or file body keeps being sent after the server reports
        #: a disconnect (a half-closed client still reads; an endless stream still stops).
        self.disconnect_grace = disconnect_grace
        #: WSGI: seconds a request arriving while another thread starts the worker waits for
        #: the startup to finish before it is answered 503 with Retry-After.
        self.startup_wait = startup_wait
        #: Turns exceptions raised while answering into responses (``exception_handler``).
        self.errors = ErrorResponder(debug=debug)
        self._router: RouteTable[Endpoint] = RouteTable()
        self._endpoints: list[Endpoint] = []
        self._names: dict[str, Endpoint] = {}
        self._startup_hooks: list[Hook] = []
        self._shutdown_hooks: list[Hook] = []
        #: provider -> replacement for Depends(provider), e.g. fakes in tests.
        self.dependency_overrides = DependencyOverrides()
        self._middleware: list[Callable[..., Any]] = []
        if allowed_hosts is not None:
            from duoweb.host_check import HostCheck
            from duoweb.hosts import AllowedHosts

            self.allowed_hosts = AllowedHosts(allowed_hosts)
            self._middleware.append(HostCheck(self.allowed_hosts))  # the outermost layer
        self._ws_router: RouteTable[WebSocketEndpoint] = RouteTable()
        #: Applications served under a path prefix (``mount``), in registration order.
        self.mounts: list[Mount] = []
        self._ws_endpoints: list[WebSocketEndpoint] = []
        self.thread_pool = ThreadPool(thread_pool_size)
        #: Routes and answers every HTTP request, in both modes (the adapters' one entry).
        self.dispatcher = Dispatcher(
            self._router,
            self._middleware,
            self.errors,
            Unrouted(self._ws_router, self._ws_endpoints),
            self.thread_pool,
            max_path_length,
        )
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
        # Found by ``app.__call__`` lookups (not by calls): an ASGI 3 look to inspect-based
        # protocol detection. See duoweb/entry.py.
        vars(self)["__call__"] = inspected_call(self)
        if openapi_url is not None or docs_url is not None:
            from duoweb.doc_routes import install_routes

            install_routes(self)

    @property
    def phase(self) -> Phase:
        """Where this worker's app is in its life, set as both adapters start and stop it.

        ``"created"`` until a server (or the test client) starts it, ``"starting"`` while
        the lifespan and startup hooks run, ``"serving"`` once they have, ``"failed"`` if
        one raised, ``"stopping"`` from the start of the shutdown and ``"stopped"`` after.
        Readiness probes (``duoweb.health.Health``) answer 200 only while ``"serving"``.
        """
        return self._phase

    @property
    def max_path_length(self) -> int:
        """Longest path accepted before answering 414 URI Too Long."""
        return self.dispatcher.max_path_length

    @max_path_length.setter
    def max_path_length(self, value: int) -> None:
        self.dispatcher.max_path_length = value

    @property
    def debug(self) -> bool:
        """Include exception details in 500 responses. Never enable in production."""
        return self.errors.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self.errors.debug = value

    @functools.cached_property
    def asgi(self) -> ASGIAdapter:
        """The ASGI 3 callable for this app (http, lifespan and websocket scopes).

        Built on first access, so a WSGI-only process never imports the ASGI side; every
        access returns the same object.
        """
        if self.mounts:
            from duoweb.mounts_asgi import mounting_asgi_adapter

            made = mounting_asgi_adapter(self)
        else:
            from duoweb.asgi import ASGIAdapter

            made = ASGIAdapter(self)
        adapter: ASGIAdapter = self.__dict__.setdefault("asgi", made)
        return adapter

    # --- serving -----------------------------------------------------------------------------

    @overload
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any], /) -> Any: ...
    @overload
    def __call__(self, scope: dict[str, Any], receive: Any, send: Any, /) -> Awaitable[None]: ...
    @overload
    def __call__(self, scope: dict[str, Any], /) -> Callable[[Any, Any], Awaitable[None]]: ...
    def __call__(self, *args: Any) -> Any:
        """Serve WSGI when called with (environ, start_response), ASGI with three arguments.

        Called with one argument (an ASGI 2 server, e.g. ``uvicorn --interface asgi2``), it
        returns the ASGI 2 instance: a callable of ``(receive, send)``.
        """
        count = len(args)
        if count == 2:
            return self.wsgi(*args)
        if count == 3:
            return self.asgi(*args)
        if count == 1:
            return functools.partial(self.asgi, args[0])
        raise TypeError(
            f"an App is called with 2 arguments (WSGI), 3 (ASGI 3) or 1 (ASGI 2), not {count}"
        )

    def __rsgi_init__(self, loop: object) -> None:
        """Refuse Granian's RSGI interface when a worker starts, rather than on each request."""
        raise UnsupportedInterfaceError(
            "duoweb serves WSGI and ASGI, not RSGI (Granian's default interface): run "
            "`granian --interface asgi module:app` or `granian --interface wsgi module:app`"
        )

    # --- registration ------------------------------------------------------------------------

    def add_route(self, spec: RouteSpec) -> None:
        """Build and register one declared HTTP route (the decorators and routers call it)."""
        handler = spec.handler
        path = spec.path
        name, operation_id = self._unique_name(spec)
        caching = None
        etag = self.etag if spec.etag is None else spec.etag
        if (etag and "GET" in spec.methods) or spec.cache_control is not None:
            from duoweb.route_caching import RouteCaching

            caching = RouteCaching(
                etag=etag, cache_control=spec.cache_control, methods=spec.methods
            )
        wrap = None
        if spec.middleware:
            from duoweb.route_middleware import middleware_wrapper

            wrap = middleware_wrapper(
                spec.middleware,
                self.thread_pool,
                self.errors.respond_sync,
                self.errors.respond_async,
            )
        endpoint = Endpoint(
            handler,
            template=path,
            template_params=template_parameters(path),
            methods=spec.methods,
            name=name,
            status_code=spec.status_code,
            max_body_size=self.max_body_size if spec.max_body_size is None else spec.max_body_size,
            inline=spec.inline,
            overrides=self.dependency_overrides,
            tags=spec.tags,
            summary=spec.summary,
            description=spec.description,
            deprecated=spec.deprecated,
            operation_id=operation_id,
            include_in_schema=spec.include_in_schema,
            security=None if spec.security is None else [dict(req) for req in spec.security],
            responses=dict(spec.responses),
            localns=spec.localns,
            form_limits=self.form_limits if spec.form_limits is None else spec.form_limits,
            dependencies=spec.dependencies,
            wrap=wrap,
            caching=caching,
        )
        self._check_app_state(endpoint)
        self._router.add(path, spec.methods, endpoint, endpoint.param_types)
        self._names.setdefault(endpoint.name, endpoint)
        self._endpoints.append(endpoint)
        self._openapi_cache.clear()

    def _unique_name(self, spec: RouteSpec) -> tuple[str, str | None]:
        """The route's name and explicit operationId, checked against the routes so far.

        Two routes may share a name only at the same path. The same handler registered again
        at another path (a router included twice) gets the first free ``name_2``,
        ``name_3``...; two different handlers at different paths are an error naming both.
        """
        name = spec.name or spec.handler.__name__
        known = self._names.get(name)
        if known is None or known.template == spec.path:
            self._check_operation_id(spec)
            return name, spec.operation_id
        if known.handler is not spec.handler:
            raise RouteDefinitionError(
                f"route name {name!r} is used by {describe(known.handler)} at "
                f"{known.template!r} and by {describe(spec.handler)} at {spec.path!r}; pass "
                "name= to the decorator, or to include_router to namespace a router's routes"
            )
        counter = 2
        while f"{name}_{counter}" in self._names:
            counter += 1
        suffix = f"_{counter}"
        operation_id = None if spec.operation_id is None else spec.operation_id + suffix
        return name + suffix, operation_id

    def _check_operation_id(self, spec: RouteSpec) -> None:
        """Two different handlers given one explicit operation_id: an error naming both."""
        if spec.operation_id is None:
            return
        for endpoint in self._endpoints:
            if endpoint.operation_id == spec.operation_id and endpoint.handler is not spec.handler:
                raise RouteDefinitionError(
                    f"operation_id {spec.operation_id!r} is given to {describe(endpoint.handler)} "
                    f"at {endpoint.template!r} and to {describe(spec.handler)} at {spec.path!r}"
                )

    def add_websocket(self, spec: WebSocketSpec) -> None:
        """Build and register one declared WebSocket route."""
        endpoint = WebSocketEndpoint(
            spec.handler,
            spec.path,
            spec.name or spec.handler.__name__,
            spec.max_message_size,
            spec.localns,
            dependencies=spec.dependencies,
            middleware=spec.middleware,
            overrides=self.dependency_overrides,
        )
        if endpoint.state_param is not None and self._lifespan is None:
            raise LifespanError(
                f"WebSocket route {endpoint.name!r} ({spec.path}) takes an AppState parameter, "
                "but the app has no lifespan to provide it: pass App(lifespan=...)"
            )
        endpoint.allowed_origins = spec.allowed_origins
        self._ws_router.add(spec.path, ("GET",), endpoint, endpoint.param_types)
        self._ws_endpoints.append(endpoint)

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        name: str | None = None,
        tags: Iterable[str] = (),
        dependencies: Iterable[Depends] = (),
        responses: Mapping[int, Any] | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
    ) -> None:
        """Register every route of ``router`` (and of the routers it includes) on this app.

        The routes join the app's one route table, exactly as if declared on the app. The
        keywords add to what the router declares; ``name`` namespaces the route names.
        """
        routes, websockets = included_routes(
            router,
            prefix=prefix,
            name=name,
            tags=tags,
            dependencies=dependencies,
            responses=responses,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
        )
        for spec in routes:
            self.add_route(spec)
        for websocket_spec in websockets:
            self.add_websocket(websocket_spec)

    def mount(
        self, prefix: str, app: Any, *, name: str | None = None, include_in_schema: bool = False
    ) -> None:
        """Serve another application under ``prefix``: a duoweb App, a WSGI or an ASGI app.

        Requests whose path is ``prefix`` or starts with ``prefix/`` go to ``app`` (before
        this app's own routes) with SCRIPT_NAME / root_path extended by the prefix; its
        startup and shutdown (hooks or lifespan) run with this app's. ``include_in_schema``
        merges a mounted duoweb App's operations into this app's OpenAPI document, their
        operationIds namespaced by ``name`` (default: the prefix, ``/admin`` -> ``admin``).
        """
        from duoweb.mounts import Mount, mounting_wsgi_adapter

        if not prefix:
            raise RouteDefinitionError("mount needs a prefix such as '/admin'")
        if app is self:
            raise RouteDefinitionError("an app cannot mount itself")
        mount = Mount(checked_prefix(prefix), app, name, include_in_schema)
        for known in self.mounts:
            if known.prefix == mount.prefix:
                raise RouteDefinitionError(f"two apps are mounted at {prefix!r}")
        if not self.mounts:
            # From now on requests look for a mount first: apps without mounts never do.
            self.wsgi = mounting_wsgi_adapter(self)
            self.__dict__.pop("asgi", None)
        self.mounts.append(mount)
        self._openapi_cache.clear()

    def match_websocket(self, path: str) -> tuple[WebSocketEndpoint, dict[str, Any]] | None:
        """The WebSocket route for ``path`` and its converted parameters, if any."""
        endpoint, params = self._ws_router.match("GET", path)
        if endpoint is None:
            return None
        return endpoint, params

    async def run_websocket(self, endpoint: WebSocketEndpoint, websocket: WebSocket) -> None:
        """Run a WebSocket route: its dependencies and router middleware, then its handler."""
        if endpoint.nodes or endpoint.middleware:
            from duoweb.websocket_gate import run_guarded

            await run_guarded(self, endpoint, websocket)
            return
        await self.run_websocket_handler(endpoint, websocket)

    async def run_websocket_handler(
        self,
        endpoint: WebSocketEndpoint,
        websocket: WebSocket,
        provided: Mapping[str, Any] | None = None,
    ) -> None:
        """Run a WebSocket handler given its ``provided`` Depends arguments; errors close (1011)."""
        from duoweb.websockets import CloseCode, WebSocketDisconnect, WebSocketState

        arguments = dict(websocket.path_params)
        if provided:
            arguments.update(provided)
        arguments[endpoint.websocket_param] = websocket
        if endpoint.state_param is not None:
            arguments[endpoint.state_param] = self.state
        tasks = None
        if endpoint.tasks_param is not None:
            tasks = arguments[endpoint.tasks_param] = BackgroundTasks()
        try:
            await endpoint.handler(**arguments)
        except WebSocketDisconnect:
            pass
        except HTTPError as exc:
            if exc.status >= 500:
                logger.exception("WebSocket handler %s failed", endpoint.name)
                code = 1011 if websocket.state is WebSocketState.OPEN else 1008
                await websocket.close(code)
                return
            # The client's fault (too many query parameters, a refused origin): one line.
            logger.warning(
                "WebSocket %s closed (policy, %d): %s", endpoint.name, exc.status, exc.detail
            )
            await websocket.close(CloseCode.POLICY_VIOLATION)
            return
        except Exception:
            logger.exception("WebSocket handler %s failed", endpoint.name)
            code = CloseCode.INTERNAL_ERROR if websocket.state is WebSocketState.OPEN else 1008
            await websocket.close(code)
            return  # a failed handler's tasks are dropped, as for HTTP routes
        else:
            await websocket.close()
        if tasks:  # the connection is closed: run what the handler queued
            from duoweb.background import run_tasks_async

            await run_tasks_async(tasks, self.thread_pool)

    def middleware(self, middleware: H) -> H:
        """Add ``middleware(request, call_next) -> Response`` (def or async def).

        The first added is the outermost: it sees the request first and the response last.
        Middleware wraps routing too, so it also sees 404 and 405 answers.
        """
        self._middleware.append(middleware)
        self.dispatcher.middleware_changed()
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
            self.errors.add_handler(exc_type, handler)
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
            self.errors.validation_renderer = ValidationRenderer(status, media_type, render)
            self._openapi_cache.clear()  # the 422 schema in the document changes
            return render

        return register

    # --- introspection -----------------------------------------------------------------------

    @property
    def endpoints(self) -> Sequence[Endpoint]:
        """Every HTTP route's endpoint, in registration order (read by the OpenAPI builder)."""
        return self._endpoints

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

            document = build_document(self, version)
            if any(mount.include_in_schema for mount in self.mounts):
                from duoweb.openapi_mounts import merge_mounted

                merge_mounted(document, self.mounts, version)
            self._openapi_cache[version] = document
        return document

    def route_template(self, method: str, path: str) -> str | None:
        """The path template of the route answering ``method`` at ``path``, or None.

        For metrics and traces, which must be labelled by route, never by the raw path.
        """
        endpoint, _ = self._router.match(method, path)
        return None if endpoint is None else endpoint.template

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in."""
        endpoint = self._names.get(name)
        if endpoint is None:
            raise LookupError(f"no route is named {name!r}")
        return build_path(endpoint.template, params, endpoint.param_types)

    # --- lifecycle (called by the protocol adapters and the test client) ---------------------

    def _check_app_state(self, endpoint: Endpoint) -> None:
        """Refuse a route reading ``AppState`` when there is no lifespan to yield it."""
        if self._lifespan is None and endpoint.uses_app_state():
            raise LifespanError(
                f"route {endpoint.name!r} ({endpoint.template}) takes an AppState parameter, "
                "but the app has no lifespan to provide it: pass App(lifespan=...)"
            )

    def takes_background_tasks(self) -> bool:
        """True when some route's handler or dependency takes ``BackgroundTasks``."""
        return any(endpoint.takes_background_tasks() for endpoint in self._endpoints)

    def _prepare_startup(self) -> None:
        """Compile the routers and check every route against the app's configuration."""
        self._router.compile()
        self._ws_router.compile()
        for endpoint in self._endpoints:
            self._check_app_state(endpoint)

    def run_startup_sync(self) -> None:
        """Enter the lifespan, run the startup hooks, then start the mounted apps."""
        self._phase = "starting"
        try:
            self._prepare_startup()
            if self._lifespan is not None:
                self.state = self._lifespan.enter_sync(self)
        except BaseException:
            self._phase = "failed"
            raise
        try:
            for hook in self._startup_hooks:
                result = hook()
                if inspect.isawaitable(result):
                    run_on_thread_loop(_as_coroutine(result))
            for mount in self.mounts:
                mount.start_sync()
        except BaseException:
            self._phase = "failed"
            self._leave_lifespan_sync()  # the lifespan's cleanup runs as at shutdown
            raise
        self._phase = "serving"

    def run_shutdown_sync(self) -> None:
        """Stop the mounted apps, run the shutdown hooks, then exit the lifespan.

        All of them run even if one fails.
        """
        self._phase = "stopping"
        for mount in reversed(self.mounts):
            try:
                mount.stop_sync()
            except Exception:
                logger.exception("stopping the app mounted at %s failed", mount.prefix)
        for hook in self._shutdown_hooks:
            try:
                result = hook()
                if inspect.isawaitable(result):
                    run_on_thread_loop(_as_coroutine(result))
            except Exception:
                logger.exception("shutdown hook %s failed", describe(hook))
        self._leave_lifespan_sync()
        self.thread_pool.shutdown()
        self._phase = "stopped"

    def _leave_lifespan_sync(self) -> None:
        if self._lifespan is None:
            return
        try:
            self._lifespan.exit_sync()
        except Exception:
            logger.exception("lifespan cleanup failed")
        self.state = None

    async def run_startup_async(self) -> None:
        """Enter the lifespan, run the startup hooks, then start the mounted apps."""
        self._phase = "starting"
        try:
            self._prepare_startup()
            if self._lifespan is not None:
                self.state = await self._lifespan.enter_async(self)
        except BaseException:
            self._phase = "failed"
            raise
        try:
            for hook in self._startup_hooks:
                result = hook()
                if inspect.isawaitable(result):
                    await result
            for mount in self.mounts:
                await mount.start_async()
        except BaseException:
            self._phase = "failed"
            await self._leave_lifespan_async()  # the lifespan's cleanup runs as at shutdown
            raise
        self._phase = "serving"

    async def run_shutdown_async(self) -> None:
        """Stop the mounted apps, run the shutdown hooks, then exit the lifespan.

        All of them run even if one fails.
        """
        self._phase = "stopping"
        for mount in reversed(self.mounts):
            try:
                await mount.stop_async()
            except Exception:
                logger.exception("stopping the app mounted at %s failed", mount.prefix)
        for hook in self._shutdown_hooks:
            try:
                result = hook()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("shutdown hook %s failed", describe(hook))
        await self._leave_lifespan_async()
        self.thread_pool.shutdown()
        self._phase = "stopped"

    async def _leave_lifespan_async(self) -> None:
        if self._lifespan is None:
            return
        try:
            await self._lifespan.exit_async()
        except Exception:
            logger.exception("lifespan cleanup failed")
        self.state = None


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
