"""A route's call plan: how its handler is called for a request, decided once at registration.

The parameters' sources come from ``duoweb.signatures``, the providers' order and calls from
``duoweb.dependency_graph``; an ``Endpoint`` picks the cheapest ``CallPath`` its shape
allows and binds that path's responders, which the dispatchers call.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from duoweb._serve import BackgroundTasks
from duoweb.concurrency import run_on_thread_loop
from duoweb.dependencies import Depends
from duoweb.dependency_graph import (
    GENERATOR_KINDS,
    DependencyNode,
    ProviderKind,
    call_provider_async,
    call_provider_sync,
    log_failure,
    plan_dependency_graph,
)
from duoweb.errors import RequestValidationError, ValidationErrorItem
from duoweb.lifespan import AppStateMarker
from duoweb.params import Extractor, ScalarParam, split_annotated
from duoweb.requests import Request
from duoweb.responses import Response
from duoweb.return_types import ResponsePlan
from duoweb.routing import RouteDefinitionError
from duoweb.signatures import (
    SignaturePlan,
    describe,
    path_kind,
    plan_signature,
    resolve_hints,
    route_hints,
)

if TYPE_CHECKING:
    from duoweb.concurrency import ThreadPool
    from duoweb.formdata import FormLimits
    from duoweb.origins import AllowedOrigins
    from duoweb.route_caching import RouteCaching

__all__ = ["CallPath", "Endpoint", "Handler", "ResponderWrapper", "WebSocketEndpoint"]

Handler = Callable[..., Any]
SyncResponder = Callable[[Request], Response]
AsyncResponder = Callable[[Request, "ThreadPool"], Any]
#: (respond_sync, respond_async) -> the same pair wrapped, e.g. in router middleware.
ResponderWrapper = Callable[[SyncResponder, AsyncResponder], tuple[SyncResponder, AsyncResponder]]


class CallPath(enum.Enum):
    """How an endpoint gets its handler's arguments, the cheapest its shape allows."""

    #: Path parameters only (and maybe a BackgroundTasks), a ``def`` handler, no router
    #: middleware: the dispatchers call the handler themselves (``Endpoint.direct``).
    DIRECT = "direct"
    #: Path parameters only: the router's dict is the argument dict as it is.
    PATH_ONLY = "path_only"
    #: No dependencies: the handler's own parameters are extracted, nothing else.
    OWN = "own"
    #: One provider, a ``def`` (no generator) with no dependency of its own, whose value goes
    #: to at most one parameter: called straight, no table of values and no exit stack.
    PROVIDER = "provider"
    #: One security scheme reading one header (``Depends(HTTPBearer())``, or as a route or
    #: router dependency), a ``def`` handler taking path parameters besides, no router
    #: middleware: the dispatchers read and check the credential and call the handler
    #: themselves (``Endpoint.gate``, a CredentialGate).
    GATED = "gated"
    #: Several providers, each a ``def`` (no generator) with no dependency of its own (a
    #: router's key check and the handler's bearer token): each called straight in turn.
    PROVIDERS = "providers"
    #: Providers run in dependency order, each value kept in a table for its readers.
    GRAPH = "graph"
    #: As GRAPH, and some provider is a generator: the call runs in an exit stack that
    #: runs its cleanup.
    STACKED = "stacked"


class Endpoint:
    """One route's handler with everything per-request work needs, computed at startup."""

    def __init__(
        self,
        handler: Handler,
        *,
        template: str,
        template_params: dict[str, str | None],
        methods: tuple[str, ...],
        name: str,
        status_code: int,
        max_body_size: int,
        inline: bool,
        overrides: Mapping[Callable[..., Any], Callable[..., Any]],
        tags: tuple[str, ...] = (),
        summary: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        operation_id: str | None = None,
        include_in_schema: bool = True,
        security: list[dict[str, Any]] | None = None,
        responses: dict[int, Any] | None = None,
        localns: Mapping[str, Any] | None = None,
        form_limits: FormLimits | None = None,
        dependencies: tuple[Depends, ...] = (),
        wrap: ResponderWrapper | None = None,
        caching: RouteCaching | None = None,
    ) -> None:
        self.handler = handler
        #: The route's ETag / Cache-Control (None for most routes).
        self.caching = caching
        #: Route and router dependencies: run before the handler, results discarded. With the
        #: handler's own they make up ``nodes``, the route's whole dependency graph.
        self.dependencies = dependencies
        #: Wraps the responders (router middleware); None for most routes.
        self.wrap = wrap
        self._localns = localns
        self.template = template
        self.template_params = template_params
        self.methods = methods
        self.name = name
        self.status_code = status_code
        self.max_body_size = max_body_size
        #: Bounds of a form body (None: the defaults), for routes that read a form.
        self.form_limits = form_limits
        self.inline = inline
        self.tags = tags
        self.summary = summary
        self.description = description
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.include_in_schema = include_in_schema
        #: OpenAPI security requirements of this operation (None: the app's default).
        self.security = security
        #: Extra documented responses: status -> model type or description.
        self.responses = responses or {}
        self.is_async = inspect.iscoroutinefunction(handler)
        hints = route_hints(handler, localns)
        self.plan = plan_signature(handler, template_params, localns, hints)
        where = describe(handler)
        self.param_types = {
            name: path_kind(where, name, self.plan.path_types[name], template_params[name])
            for name in self.plan.path
        }
        self.response_plan = ResponsePlan(hints.get("return", inspect.Parameter.empty), status_code)
        #: Turn a handler result into a Response, as the return annotation says.
        self.render = self.response_plan.render
        self._overrides = overrides
        self.plan_dependencies()
        if self.plan.dependencies or dependencies:
            watch = getattr(overrides, "watch", None)
            if watch is not None:  # re-plan when an override changes, never per request
                watch(self.plan_dependencies)
        for node in self.nodes:  # a path parameter read only by providers: typed by them
            provider = describe(node.provider)
            for name in node.plan.path:
                kind = path_kind(provider, name, node.plan.path_types[name], template_params[name])
                known = self.param_types.setdefault(name, kind)
                if known != kind:
                    raise RouteDefinitionError(
                        f"{where}: path parameter {name!r} is {known!r} for one reader and "
                        f"{kind!r} for {provider}; annotate it the same way everywhere"
                    )
        unused = template_params.keys() - self._path_names_used()
        if unused:
            raise RouteDefinitionError(
                f"{where}: path parameter(s) {', '.join(sorted(unused))} of {template!r} "
                "are used by neither the handler nor its dependencies"
            )

    # --- planning ----------------------------------------------------------------------------

    def plan_dependencies(self) -> None:
        """(Re)build the ordered provider list, applying the app's dependency overrides.

        Then choose the call path and bind its responders. The App's overrides call it
        whenever they change.
        """
        #: Where the handler's Depends parameters find their values, and the providers to run.
        self.needs: list[tuple[str, object]] = []
        self.nodes: list[DependencyNode] = []
        if self.plan.dependencies or self.dependencies:
            self.needs, self.nodes = plan_dependency_graph(
                self.plan.dependencies,
                self.dependencies,
                self.template_params,
                self._localns,
                self._overrides,
            )
        #: Some parameter of the handler or a dependency comes from a form body.
        self.reads_form = self.plan.form or any(node.plan.form for node in self.nodes)
        #: The dispatcher reads the whole body before calling ``respond_*``.
        self.reads_body = self._reads_body()
        self.call_path = self._choose_call_path()
        #: The keyword names the dispatchers call the handler with themselves (DIRECT path):
        #: its path parameters, which are the router's captures, then its BackgroundTasks
        #: parameter if it takes one (so one name more than the captures is that). None on
        #: the other paths, and for a keyword-only BackgroundTasks that is the only parameter
        #: (the compiled dispatcher passes a lone BackgroundTasks by position).
        self.direct: tuple[str, ...] | None = None
        lone_keyword_tasks = not self.plan.path and self.plan.tasks in self.plan.keyword_only
        if self.call_path is CallPath.DIRECT and self.caching is None and not lone_keyword_tasks:
            tasks = () if self.plan.tasks is None else (self.plan.tasks,)
            self.direct = (*self.plan.path, *tasks)
        #: ``direct`` for the ASGI dispatcher, which calls the handler only on inline routes.
        self.direct_inline: tuple[str, ...] | None = self.direct if self.inline else None
        #: The credential gate the dispatchers run themselves (GATED path), else None.
        self.gate: Any = self._credential_gate() if self.call_path is CallPath.PROVIDER else None
        if self.gate is not None:
            self.call_path = CallPath.GATED
        #: ``gate`` for the ASGI dispatcher, which calls the handler only on inline routes.
        self.gate_inline: Any = self.gate if self.inline else None
        #: Under ASGI, run the whole call synchronously on the loop: the route is inline and
        #: neither the handler nor any provider is async, and no form is awaited first.
        self.sync_inline = (
            self.inline
            and not self.is_async
            and not self.reads_form
            and self.wrap is None
            and all(node.kind in _SYNC_KINDS for node in self.nodes)
        )
        self._plan_responders()

    def _choose_call_path(self) -> CallPath:
        plan = self.plan
        nodes = self.nodes
        if not nodes:
            if plan.scalars or plan.body is not None or plan.request is not None:
                return CallPath.OWN
            if plan.state is not None:
                return CallPath.OWN
            if not self.is_async and self.wrap is None:
                return CallPath.DIRECT
            return CallPath.OWN if plan.tasks is not None else CallPath.PATH_ONLY
        if any(node.kind in GENERATOR_KINDS for node in nodes):
            return CallPath.STACKED
        #: The handler takes something besides its providers' values.
        self._handler_extracts = bool(
            plan.path or plan.contextual or plan.scalars or plan.body is not None
        )
        if all(node.kind is ProviderKind.FUNCTION and not node.needs for node in nodes):
            if len(nodes) == 1 and len(self.needs) <= 1:
                self._plan_provider_call(nodes[0])
                return CallPath.PROVIDER
            self._plain_calls = [self._plain_call(node) for node in nodes]
            return CallPath.PROVIDERS
        return CallPath.GRAPH

    def _credential_gate(self) -> Any:
        """The CredentialGate of a PROVIDER route the dispatchers can call themselves, or None.

        Its one provider must offer one (a security scheme reading a header, as the stock
        ones do: ``direct_gate``), and the handler must be a ``def`` taking only path
        parameters besides the scheme's value, with no router middleware or caching between.
        """
        plan = self.plan
        direct_gate = getattr(self._provider, "direct_gate", None)
        if (
            direct_gate is None
            or self.is_async
            or self.wrap is not None
            or self.caching is not None
            or self._handler_extracts_besides_path()
            or self._provider_plan.contextual
        ):
            return None
        fed = () if self._fed is None else (self._fed,)
        return direct_gate(self.handler, (*plan.path, *fed))

    def _handler_extracts_besides_path(self) -> bool:
        plan = self.plan
        return bool(plan.contextual or plan.scalars or plan.body is not None or plan.form)

    def _plain_call(self, node: DependencyNode) -> PlainCall:
        """How the PROVIDERS path calls one provider and which handler parameters it feeds."""
        plan = node.plan
        return PlainCall(
            provider=node.provider,
            call=_direct_call(node.provider),
            lone=_lone_input(plan),
            plan=plan,
            fed=tuple(name for name, key in self.needs if key == node.key),
        )

    def _plan_provider_call(self, node: DependencyNode) -> None:
        """What the PROVIDER path needs: the provider, how to call it, what it feeds."""
        #: The one provider and its plan.
        self._provider = provider = node.provider
        self._provider_plan = plan = node.plan
        #: What calling it runs: a callable object's bound ``__call__``, found now rather
        #: than by the interpreter at every call.
        self._call_provider = _direct_call(provider)
        #: The handler parameter that gets its value (None: a route dependency).
        self._fed = self.needs[0][0] if self.needs else None
        #: The provider's one parameter, when it has only that, read from the query, a
        #: header or a cookie and passable by position; None otherwise.
        self._lone_input = lone = _lone_input(plan)
        #: That parameter's header name, when it is optional text read as it is (a security
        #: scheme's credential): read with ``request.header``, no extraction, no 422 possible.
        self._lone_header: str | None = None
        self._lone_default: Any = None
        if (
            isinstance(lone, ScalarParam)
            and lone.source == "header"
            and lone.plain_text
            and not (lone.multi or lone.required)
        ):
            self._lone_header = lone.key
            self._lone_default = lone.default

    def _plan_responders(self) -> None:
        """Bind the call path's responders, wrapped for a form body and router middleware.

        A route that reads a form parses it (streamed) before extracting its arguments. The
        responders are instance attributes, so the dispatchers' call finds them at once.
        """
        path = self.call_path
        caching = self.caching
        if path is CallPath.DIRECT:  # reached only when the dispatcher does not call directly
            path = CallPath.PATH_ONLY if self.plan.tasks is None else CallPath.OWN
        elif path is CallPath.GATED:  # the same, when the dispatcher does not run the gate
            path = CallPath.PROVIDER
        self._responders = self._RESPONDERS[path]
        respond_sync: Any = types.MethodType(self._responders[0], self)
        respond_async: Any = types.MethodType(self._responders[1], self)
        if self.reads_form:
            from duoweb.form_params import form_responders

            respond_sync, respond_async = form_responders(
                respond_sync, respond_async, self.form_limits, self.max_body_size
            )
        if caching is not None:  # inside router middleware, which sees the validators
            respond_sync, respond_async = caching.wrap(respond_sync, respond_async)
            if self.call_path is CallPath.DIRECT and self.plan.tasks is None:
                respond_sync = caching.direct(self.handler, self.response_plan)
        if self.wrap is not None:
            respond_sync, respond_async = self.wrap(respond_sync, respond_async)
        self.respond_sync = respond_sync  # type: ignore[method-assign]
        self.respond_async = respond_async  # type: ignore[method-assign]

    def takes_background_tasks(self) -> bool:
        """True when the handler or one of its dependencies takes ``BackgroundTasks``."""
        return self.plan.tasks is not None or any(n.plan.tasks is not None for n in self.nodes)

    def uses_app_state(self) -> bool:
        """True when the handler or one of its dependencies takes an ``AppState`` parameter."""
        return self.plan.state is not None or any(n.plan.state is not None for n in self.nodes)

    def _path_names_used(self) -> set[str]:
        used = set(self.plan.path)
        for node in self.nodes:
            used.update(node.plan.path)
        return used

    def _reads_body(self) -> bool:
        if self.reads_form:
            return False  # the form parser reads the body, chunk by chunk
        plans = [self.plan, *(node.plan for node in self.nodes)]
        return any(p.request is not None or p.body is not None for p in plans)

    # --- per request: the public pair ------------------------------------------------------

    def respond_sync(self, request: Request) -> Response:
        """Run the handler for ``request`` and render its result (WSGI mode)."""
        # Shadowed per instance by the call path's responder, bound in _plan_responders.
        return self._responders[0](self, request)  # type: ignore[no-any-return]

    async def respond_async(self, request: Request, pool: ThreadPool) -> Response:
        """Run the handler for ``request`` and render its result (ASGI mode)."""
        # Shadowed per instance by the call path's responder, bound in _plan_responders.
        return await self._responders[1](self, request, pool)  # type: ignore[no-any-return]

    # --- per request: one responder pair per call path ----------------------------------------

    def _finish_sync(self, arguments: dict[str, Any]) -> Response:
        result = self.handler(**arguments)
        if self.is_async:
            result = run_on_thread_loop(result)
        return self.render(result)

    async def _finish_async(self, arguments: dict[str, Any], pool: ThreadPool) -> Response:
        if self.is_async:
            return self.render(await self.handler(**arguments))
        if self.inline:
            return self.render(self.handler(**arguments))
        return self.render(await pool.run(self.handler, **arguments))

    def _path_only_sync(self, request: Request) -> Response:
        return self._finish_sync(request.path_params)

    async def _path_only_async(self, request: Request, pool: ThreadPool) -> Response:
        return await self._finish_async(request.path_params, pool)

    def _own_arguments(self, request: Request) -> dict[str, Any]:
        """The handler's arguments (it has no dependencies); failed checks raise one 422."""
        errors: list[ValidationErrorItem] = []
        arguments = self.plan.extract(request, errors)
        if errors:
            raise RequestValidationError(errors)
        return arguments

    def _own_sync(self, request: Request) -> Response:
        # _own_arguments and _finish_sync inlined: on query and body routes a call costs more.
        errors: list[ValidationErrorItem] = []
        arguments = self.plan.extract(request, errors)
        if errors:
            raise RequestValidationError(errors)
        result = self.handler(**arguments)
        if self.is_async:
            result = run_on_thread_loop(result)
        return self.render(result)

    async def _own_async(self, request: Request, pool: ThreadPool) -> Response:
        return await self._finish_async(self._own_arguments(request), pool)

    def _provider_inputs(self, request: Request) -> tuple[Any, dict[str, Any]]:
        """The provider's input and the handler's arguments, all checked together (one 422).

        The input is the provider's one parameter's value when it takes only that (passed by
        position), else its keyword arguments.
        """
        errors: list[ValidationErrorItem] = []
        lone = self._lone_input
        inputs = (
            self._provider_plan.extract(request, errors)
            if lone is None
            else lone.extract(request, errors)
        )
        arguments = self.plan.extract(request, errors) if self._handler_extracts else {}
        if errors:
            raise RequestValidationError(errors)
        return inputs, arguments

    def _provider_sync(self, request: Request) -> Response:
        header = self._lone_header
        if header is not None and not self._handler_extracts:  # a scheme's credential
            credential: Any = request.header(header)
            if credential is None:
                credential = self._lone_default
            try:
                value = self._call_provider(credential)
            except Exception as exc:
                log_failure(self._provider, exc)
                raise
            fed = self._fed
            result = self.handler() if fed is None else self.handler(**{fed: value})
            if self.is_async:
                result = run_on_thread_loop(result)
            return self.render(result)
        # _provider_inputs inlined, as in _own_sync.
        errors: list[ValidationErrorItem] = []
        lone = self._lone_input
        if lone is None:
            inputs = self._provider_plan.extract(request, errors)
        else:
            inputs = lone.extract(request, errors)
        arguments = self.plan.extract(request, errors) if self._handler_extracts else {}
        if errors:
            raise RequestValidationError(errors)
        try:
            value = self._call_provider(**inputs) if lone is None else self._call_provider(inputs)
        except Exception as exc:
            log_failure(self._provider, exc)
            raise
        if self._fed is not None:
            arguments[self._fed] = value
        result = self.handler(**arguments)
        if self.is_async:
            result = run_on_thread_loop(result)
        return self.render(result)

    async def _provider_async(self, request: Request, pool: ThreadPool) -> Response:
        inputs, arguments = self._provider_inputs(request)
        provider = self._provider
        try:
            if self._lone_input is not None:
                inputs = {self._lone_input.name: inputs}
            value = provider(**inputs) if self.inline else await pool.run(provider, **inputs)
        except Exception as exc:
            log_failure(provider, exc)
            raise
        if self._fed is not None:
            arguments[self._fed] = value
        return await self._finish_async(arguments, pool)

    def _plain_arguments(self, request: Request) -> tuple[dict[str, Any], list[Any]]:
        """The handler's arguments and each plain provider's input, checked together (one 422)."""
        errors: list[ValidationErrorItem] = []
        inputs = [
            call.plan.extract(request, errors)
            if call.lone is None
            else call.lone.extract(request, errors)
            for call in self._plain_calls
        ]
        arguments = self.plan.extract(request, errors) if self._handler_extracts else {}
        if errors:
            raise RequestValidationError(errors)
        return arguments, inputs

    def _providers_sync(self, request: Request) -> Response:
        arguments, inputs = self._plain_arguments(request)
        for call, given in zip(self._plain_calls, inputs, strict=True):
            try:
                value = call.call(**given) if call.lone is None else call.call(given)
            except Exception as exc:
                log_failure(call.provider, exc)
                raise
            for name in call.fed:
                arguments[name] = value
        return self._finish_sync(arguments)

    async def _providers_async(self, request: Request, pool: ThreadPool) -> Response:
        arguments, inputs = self._plain_arguments(request)
        inline = self.inline
        for call, given in zip(self._plain_calls, inputs, strict=True):
            kwargs = given if call.lone is None else {call.lone.name: given}
            try:
                if inline:
                    value = call.call(**kwargs)
                else:
                    value = await pool.run(call.provider, **kwargs)
            except Exception as exc:
                log_failure(call.provider, exc)
                raise
            for name in call.fed:
                arguments[name] = value
        return await self._finish_async(arguments, pool)

    def _validated(
        self, request: Request
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | tuple[()]]:
        """The handler's and providers' own arguments, all checked together (one 422)."""
        errors: list[ValidationErrorItem] = []
        nodes = self.nodes
        provider_args = [node.plan.extract(request, errors) for node in nodes] if nodes else ()
        arguments = self.plan.extract(request, errors)
        if errors:
            raise RequestValidationError(errors)
        return arguments, provider_args

    def _graph_arguments_sync(
        self, request: Request, stack: contextlib.ExitStack | None
    ) -> dict[str, Any]:
        """Every argument, running providers synchronously; all checks fail together (422)."""
        arguments, provider_args = self._validated(request)
        values: dict[object, Any] = {}
        for node, kwargs in zip(self.nodes, provider_args, strict=True):
            for name, key in node.needs:
                kwargs[name] = values[key]
            values[node.key] = call_provider_sync(node, kwargs, stack)
        for name, key in self.needs:
            arguments[name] = values[key]
        return arguments

    async def _graph_arguments_async(
        self, request: Request, stack: contextlib.AsyncExitStack | None, pool: ThreadPool
    ) -> dict[str, Any]:
        """Every argument, awaiting providers; all checks fail together (422)."""
        arguments, provider_args = self._validated(request)
        values: dict[object, Any] = {}
        for node, kwargs in zip(self.nodes, provider_args, strict=True):
            for name, key in node.needs:
                kwargs[name] = values[key]
            values[node.key] = await call_provider_async(node, kwargs, stack, pool, self.inline)
        for name, key in self.needs:
            arguments[name] = values[key]
        return arguments

    def _graph_sync(self, request: Request) -> Response:
        return self._finish_sync(self._graph_arguments_sync(request, None))

    async def _graph_async(self, request: Request, pool: ThreadPool) -> Response:
        arguments = await self._graph_arguments_async(request, None, pool)
        return await self._finish_async(arguments, pool)

    def _stacked_sync(self, request: Request) -> Response:
        with contextlib.ExitStack() as stack:
            return self._finish_sync(self._graph_arguments_sync(request, stack))
        raise self._suppressed()

    async def _stacked_async(self, request: Request, pool: ThreadPool) -> Response:
        async with contextlib.AsyncExitStack() as stack:
            arguments = await self._graph_arguments_async(request, stack, pool)
            return await self._finish_async(arguments, pool)
        raise self._suppressed()

    def _suppressed(self) -> RuntimeError:
        """The error for a generator provider that swallowed the handler's exception."""
        return RuntimeError(
            f"a generator dependency of {self.name!r} swallowed an exception; re-raise it"
        )

    def __repr__(self) -> str:
        return f"<Endpoint {'|'.join(self.methods)} {self.template} -> {self.name}>"

    #: Each call path's (sync, async) responder, unbound.
    _RESPONDERS: ClassVar[dict[CallPath, tuple[Callable[..., Any], Callable[..., Any]]]] = {
        CallPath.PATH_ONLY: (_path_only_sync, _path_only_async),
        CallPath.OWN: (_own_sync, _own_async),
        CallPath.PROVIDER: (_provider_sync, _provider_async),
        CallPath.PROVIDERS: (_providers_sync, _providers_async),
        CallPath.GRAPH: (_graph_sync, _graph_async),
        CallPath.STACKED: (_stacked_sync, _stacked_async),
    }


class PlainCall(msgspec.Struct, frozen=True):
    """One provider of the PROVIDERS path: a ``def`` with no dependency of its own."""

    #: The provider (what failures are logged as, and what a thread pool runs).
    provider: Callable[..., Any]
    #: What calling it runs (a callable object's bound ``__call__``, found at planning).
    call: Callable[..., Any]
    #: Its one parameter when it has only that, passed by position; None: keyword arguments.
    lone: Extractor | None
    plan: SignaturePlan
    #: The handler parameters that get its value (none for a route or router dependency).
    fed: tuple[str, ...]


def _direct_call(provider: Callable[..., Any]) -> Callable[..., Any]:
    """What calling ``provider`` runs: a callable object's ``__call__``, looked up now."""
    target: Any = provider
    if isinstance(target, _PLAIN_CALLABLES):
        return provider
    call: Callable[..., Any] = target.__call__
    return call


def _lone_input(plan: SignaturePlan) -> Extractor | None:
    """A provider's one parameter when it has only that, passable by position; else None.

    That parameter is read from the query, a header or a cookie.
    """
    if (
        len(plan.scalars) == 1
        and not (plan.path or plan.contextual or plan.form or plan.body is not None)
        and plan.scalars[0].name not in plan.keyword_only
    ):
        return plan.scalars[0]
    return None


#: Callables whose call is already direct: others' ``__call__`` is looked up once, at planning.
_PLAIN_CALLABLES = (
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    type,
    functools.partial,
)

#: Provider kinds that need no event loop: a route of them can run inline on the ASGI loop.
_SYNC_KINDS = frozenset({ProviderKind.FUNCTION, ProviderKind.GENERATOR})


class WebSocketEndpoint:
    """A WebSocket route's handler: which parameter gets the connection, which the path."""

    def __init__(
        self,
        handler: Handler,
        template: str,
        name: str,
        max_message_size: int,
        localns: Mapping[str, Any] | None = None,
        *,
        dependencies: tuple[Depends, ...] = (),
        middleware: tuple[Callable[..., Any], ...] = (),
        overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
    ) -> None:
        from duoweb.routing import template_parameters
        from duoweb.websockets import WebSocket

        where = describe(handler)
        if not inspect.iscoroutinefunction(handler):
            raise RouteDefinitionError(f"{where}: a WebSocket handler must be async def")
        self.handler = handler
        self.template = template
        self.name = name
        self.max_message_size = max_message_size
        #: The origins whose pages may open this WebSocket (None: any).
        self.allowed_origins: AllowedOrigins | None = None
        template_params = template_parameters(template)
        hints = resolve_hints(handler, localns)
        self.websocket_param = ""
        #: The parameters that get a BackgroundTasks (run once the handler has returned) and
        #: the app's lifespan state, if the handler takes them.
        self.tasks_param: str | None = None
        self.state_param: str | None = None
        self.param_types: dict[str, str] = {}
        #: The handler's parameters a provider gives (``Annotated[T, Depends(p)]``), run with
        #: the handshake like the route's dependencies.
        self.provided: list[tuple[str, Depends]] = []
        for param, parameter in inspect.signature(handler).parameters.items():
            annotation = hints.get(param, str)
            base, metadata = split_annotated(annotation)
            depends = next((m for m in metadata if isinstance(m, Depends)), None)
            if depends is None and isinstance(parameter.default, Depends):
                depends = parameter.default
            if depends is not None:
                self.provided.append((param, depends))
            elif any(isinstance(m, AppStateMarker) for m in metadata):
                self.state_param = param
            elif isinstance(base, type) and issubclass(base, BackgroundTasks):
                self.tasks_param = param
            elif isinstance(annotation, type) and issubclass(annotation, WebSocket):
                self.websocket_param = param
            elif param in template_params:
                self.param_types[param] = path_kind(
                    where, param, annotation, template_params[param]
                )
            else:
                raise RouteDefinitionError(
                    f"{where}: parameter {param!r} is neither the WebSocket nor in the path "
                    f"{template!r}, a BackgroundTasks, an AppState or Depends(...) (read query "
                    "and headers from the WebSocket object or in a provider)"
                )
        if not self.websocket_param:
            raise RouteDefinitionError(f"{where}: needs a parameter annotated WebSocket")
        #: Route and router dependencies, run with the handshake before the handler.
        self.dependencies = dependencies
        #: Router middleware around the handshake and the session, outermost first.
        self.middleware = middleware
        self._template_params = template_params
        self._localns = localns
        self._overrides: Mapping[Callable[..., Any], Callable[..., Any]] = (
            {} if overrides is None else overrides  # an empty one may be filled later
        )
        #: The providers to run, in order (the route's dependency graph).
        self.nodes: list[DependencyNode] = []
        #: Where each of ``provided``'s parameters finds its value among the nodes'.
        self.needs: list[tuple[str, object]] = []
        self.plan_dependencies()
        watch = getattr(overrides, "watch", None)
        if (dependencies or self.provided) and watch is not None:  # re-plan on an override
            watch(self.plan_dependencies)

    def plan_dependencies(self) -> None:
        """(Re)build the provider list, applying the app's dependency overrides."""
        if not self.dependencies and not self.provided:
            return
        self.needs, self.nodes = plan_dependency_graph(
            self.provided, self.dependencies, self._template_params, self._localns, self._overrides
        )
        for node in self.nodes:
            if node.plan.body is not None or node.plan.form:
                raise RouteDefinitionError(
                    f"{describe(node.provider)}: a WebSocket route's dependency cannot read "
                    "a request body"
                )

    async def run_dependencies(
        self, request: Request, stack: contextlib.AsyncExitStack, pool: ThreadPool
    ) -> dict[str, Any]:
        """Run the providers for the handshake ``request``: the handler's ``provided`` values."""
        errors: list[ValidationErrorItem] = []
        provider_args = [node.plan.extract(request, errors) for node in self.nodes]
        if errors:
            raise RequestValidationError(errors)
        values: dict[object, Any] = {}
        for node, kwargs in zip(self.nodes, provider_args, strict=True):
            for name, key in node.needs:
                kwargs[name] = values[key]
            values[node.key] = await call_provider_async(node, kwargs, stack, pool, False)
        return {name: values[key] for name, key in self.needs}
