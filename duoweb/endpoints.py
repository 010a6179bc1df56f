"""A handler's signature compiled once, at registration, into a plan for calling it."""

from __future__ import annotations

import contextlib
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from duoweb._lazy import lazy_logger
from duoweb._serve import BackgroundTasks
from duoweb.concurrency import run_on_thread_loop
from duoweb.dependencies import Depends
from duoweb.errors import RequestValidationError, ValidationErrorItem
from duoweb.lifespan import AppStateMarker
from duoweb.models import BodyParam, carries_model
from duoweb.params import (
    Body,
    Extractor,
    Form,
    Param,
    is_form_type,
    scalar_param,
    split_annotated,
    strip_optional,
)
from duoweb.requests import Request
from duoweb.responses import Response
from duoweb.return_types import ResponsePlan
from duoweb.routing import BUILTIN_KINDS, CONVERTER_FOR_TYPE, RouteDefinitionError

if TYPE_CHECKING:
    from duoweb.concurrency import ThreadPool
    from duoweb.formdata import FormLimits
    from duoweb.origins import AllowedOrigins

Handler = Callable[..., Any]
#: (respond_sync, respond_async) -> the same pair wrapped, e.g. in router middleware.
ResponderWrapper = Callable[
    [Callable[[Request], Response], Callable[[Request, "ThreadPool"], Any]],
    tuple[Callable[[Request], Response], Callable[[Request, "ThreadPool"], Any]],
]

logger = lazy_logger("duoweb", globals())


def describe(function: Callable[..., Any]) -> str:
    """``module.qualname`` of a function, for error messages and logs."""
    module = getattr(function, "__module__", "?")
    return f"{module}.{getattr(function, '__qualname__', repr(function))}"


class SignaturePlan(msgspec.Struct):
    """Where each parameter of one function (handler or provider) comes from."""

    function: Callable[..., Any]
    path: list[str]
    request: str | None
    scalars: list[Extractor]
    body: BodyParam | None
    dependencies: list[tuple[str, Depends]]
    path_types: dict[str, Any]
    #: Some parameter comes from a form: the endpoint parses it before extracting.
    form: bool = False
    #: The parameter that gets the request's BackgroundTasks, if any.
    tasks: str | None = None
    #: The parameter that gets the app's lifespan state (``AppState[T]``), if any.
    state: str | None = None

    def extract(self, request: Request, errors: list[ValidationErrorItem]) -> dict[str, Any]:
        """Every argument except dependencies; failed checks are added to ``errors``."""
        params = request.path_params
        arguments = {name: params[name] for name in self.path} if self.path else {}
        if self.request is not None:
            arguments[self.request] = request
        for scalar in self.scalars:
            arguments[scalar.name] = scalar.extract(request, errors)
        if self.body is not None:
            try:
                arguments[self.body.name] = self.body.extract(request)
            except RequestValidationError as exc:
                errors.extend(exc.errors)
        return arguments


class ContextPlan(SignaturePlan):
    """A plan with a BackgroundTasks or AppState parameter; plain plans never pay for them."""

    def extract(self, request: Request, errors: list[ValidationErrorItem]) -> dict[str, Any]:
        """Every argument except dependencies, the request's tasks and the app's state too."""
        arguments = SignaturePlan.extract(self, request, errors)
        if self.tasks is not None:
            tasks = request.background
            if tasks is None:  # the first reader of this request creates them
                tasks = request.background = BackgroundTasks()
            arguments[self.tasks] = tasks
        if self.state is not None:
            arguments[self.state] = request.app.state
        return arguments


def resolve_hints(
    function: Callable[..., Any], localns: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The function's annotations, evaluated also in ``localns`` (the defining scope).

    That lets postponed annotations name classes and providers local to a function.
    """
    namespace = dict(localns or {})
    if isinstance(function, types.FunctionType):
        hints = _evaluated_hints(function, namespace)
        if hints is not None:
            return hints
    return typing.get_type_hints(function, localns=namespace, include_extras=True)


#: Each distinct annotation string, compiled once per process (typing compiles it per use).
_ANNOTATION_CODE: dict[str, types.CodeType] = {}
#: Origins typing refuses in a function annotation; such hints are left to typing to reject.
_REFUSED_ORIGINS: tuple[Any, ...] = (typing.ClassVar, typing.Final, typing.Generic, typing.Protocol)


def _evaluated_hints(
    function: types.FunctionType, localns: dict[str, Any]
) -> dict[str, Any] | None:
    """``typing.get_type_hints`` for a plain function, compiling each annotation string once.

    Routes repeat the same few annotations (``int``, ``str``, a model), and with postponed
    annotations typing compiles every one of them on every call; here each string is compiled
    once and evaluated in the same namespaces. None whenever typing's own handling could
    differ (an unusual annotation, or one that fails): the caller then asks typing itself.
    """
    annotations = getattr(function, "__annotations__", None)
    if not annotations or getattr(function, "__no_type_check__", None):
        return None
    if not any(isinstance(value, str) for value in annotations.values()):
        return None  # nothing to compile: typing is as quick
    scope: Any = function
    while hasattr(scope, "__wrapped__"):
        scope = scope.__wrapped__
    globalns: dict[str, Any] = getattr(scope, "__globals__", {})
    evaluated: dict[str, Any] = {}
    settled = True
    try:
        for name, value in annotations.items():
            if isinstance(value, str):
                code = _ANNOTATION_CODE.get(value)
                if code is None:
                    code = _ANNOTATION_CODE[value] = compile(value, "<string>", "eval")
                value = eval(code, globalns, localns)  # as typing.ForwardRef evaluates it
                if not _plain_hint(value):
                    return None
            if value is None:
                value = type(None)
            evaluated[name] = value
            settled = settled and _settled(value)
        if settled:  # plain classes and generics of them: typing has nothing left to resolve
            return evaluated
        # typing still resolves what it would resolve inside the values (nested strings).
        return typing.get_type_hints(
            types.SimpleNamespace(__annotations__=evaluated),
            globalns,
            localns,
            include_extras=True,
        )
    except Exception:
        return None


def _plain_hint(value: Any) -> bool:
    """True for an evaluated annotation typing accepts as it is: a class, a generic or None."""
    if value is None:
        return True
    if isinstance(value, type):
        return value not in (typing.Generic, typing.Protocol)
    origin = typing.get_origin(value)
    return origin is not None and origin not in _REFUSED_ORIGINS


def _settled(value: Any) -> bool:
    """True for a class, or a ``list[int]`` / ``int | None`` made only of classes."""
    if isinstance(value, types.GenericAlias | types.UnionType):
        return all(_settled(arg) for arg in value.__args__)
    return isinstance(value, type)


def _route_hints(function: Callable[..., Any], localns: Mapping[str, Any] | None) -> dict[str, Any]:
    """resolve_hints, failing as a route definition error."""
    try:
        return resolve_hints(function, localns)
    except Exception as exc:
        raise RouteDefinitionError(
            f"{describe(function)}: cannot resolve annotations: {exc}"
        ) from exc


def plan_signature(
    function: Callable[..., Any],
    template_params: Mapping[str, Any],
    localns: Mapping[str, Any] | None = None,
    hints: dict[str, Any] | None = None,
) -> SignaturePlan:
    """Inspect ``function`` once and decide the source of each of its parameters.

    ``hints`` are its resolved annotations when the caller already has them.
    """
    where = describe(function)
    if hints is None:
        hints = _route_hints(function, localns)
    plan = SignaturePlan(function, [], None, [], None, [], {})
    for name, kind, default in _parameters(function):
        if kind in (_VAR_POSITIONAL, _VAR_KEYWORD):
            raise RouteDefinitionError(f"{where}: *{name} parameters are not supported")
        if kind is _POSITIONAL_ONLY:
            raise RouteDefinitionError(f"{where}: positional-only parameter {name!r}")
        annotation = hints.get(name, str)
        # No default is inspect.Parameter.empty, passed on as it is.
        _plan_parameter(plan, where, name, annotation, default, template_params)
    if plan.tasks is not None or plan.state is not None:
        return ContextPlan(**msgspec.structs.asdict(plan))
    return plan


_POSITIONAL_ONLY = inspect.Parameter.POSITIONAL_ONLY
_POSITIONAL_OR_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
_VAR_POSITIONAL = inspect.Parameter.VAR_POSITIONAL
_KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD
_EMPTY = inspect.Parameter.empty


def _parameters(function: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    """(name, kind, default) of each parameter, in order, as ``inspect.signature`` gives them.

    A plain function's are read straight from its code object, as inspect itself reads them
    but without building Signature objects (which cost more than the rest of planning a
    simple handler); anything else (wrapped, partial, callable object, ``__signature__``)
    goes through inspect.
    """
    if (
        type(function) is not types.FunctionType
        or hasattr(function, "__wrapped__")
        or getattr(function, "__signature__", None) is not None
        or getattr(function, "__text_signature__", None)
        or hasattr(function, "_partialmethod")
    ):
        return [
            (name, parameter.kind, parameter.default)
            for name, parameter in inspect.signature(function).parameters.items()
        ]
    code = function.__code__
    names = code.co_varnames
    positional = code.co_argcount
    keyword_only = code.co_kwonlyargcount
    defaults = function.__defaults__ or ()
    kwdefaults = function.__kwdefaults__ or {}
    first_default = positional - len(defaults)
    found: list[tuple[str, Any, Any]] = []
    for index in range(positional):
        kind = _POSITIONAL_ONLY if index < code.co_posonlyargcount else _POSITIONAL_OR_KEYWORD
        default = defaults[index - first_default] if index >= first_default else _EMPTY
        found.append((names[index], kind, default))
    index = positional + keyword_only
    if code.co_flags & inspect.CO_VARARGS:
        found.append((names[index], _VAR_POSITIONAL, _EMPTY))
        index += 1
    for name in names[positional : positional + keyword_only]:
        found.append((name, _KEYWORD_ONLY, kwdefaults.get(name, _EMPTY)))
    if code.co_flags & inspect.CO_VARKEYWORDS:
        found.append((names[index], _VAR_KEYWORD, _EMPTY))
    return found


def _plan_parameter(
    plan: SignaturePlan,
    where: str,
    name: str,
    annotation: Any,
    default: Any,
    template_params: Mapping[str, Any],
) -> None:
    base, metadata = split_annotated(annotation)
    if any(isinstance(m, AppStateMarker) for m in metadata):
        if plan.state is not None:
            raise RouteDefinitionError(
                f"{where}: parameters {plan.state!r} and {name!r} are both AppState"
            )
        plan.state = name
        return
    if isinstance(base, type) and issubclass(base, BackgroundTasks):
        if plan.tasks is not None:
            raise RouteDefinitionError(
                f"{where}: parameters {plan.tasks!r} and {name!r} are both BackgroundTasks"
            )
        plan.tasks = name
        return
    depends = next((m for m in metadata if isinstance(m, Depends)), None)
    if depends is None and isinstance(default, Depends):
        depends = default
    if depends is not None:
        plan.dependencies.append((name, depends))
        return
    if isinstance(base, type) and issubclass(base, Request):
        plan.request = name
        return
    marker = next((m for m in metadata if isinstance(m, Param | Body)), None)
    if name in template_params and marker is None:
        plan.path.append(name)
        plan.path_types[name] = base
        return
    inner, optional = strip_optional(base)
    if isinstance(marker, Form) or (marker is None and is_form_type(inner)):
        _plan_form_parameter(plan, where, name, base, metadata, default, marker)
        return
    if isinstance(marker, Body) or (marker is None and carries_model(inner)):
        if plan.body is not None:
            raise RouteDefinitionError(
                f"{where}: parameters {plan.body.name!r} and {name!r} both come from the body"
            )
        try:
            plan.body = BodyParam(name, base, default, optional)
        except Exception as exc:
            raise RouteDefinitionError(
                f"{where}: body parameter {name!r} of type {base!r} is not decodable: {exc}"
            ) from exc
        return
    try:
        scalar = scalar_param(name, base, metadata, default, marker)
    except Exception as exc:
        raise RouteDefinitionError(
            f"{where}: parameter {name!r}: {annotation!r} cannot be checked: {exc}"
        ) from exc
    if scalar is None:
        raise RouteDefinitionError(
            f"{where}: parameter {name!r} has unsupported type {annotation!r}; a parameter "
            "is a path/query/header/cookie scalar (or list of them), a model (body), the "
            "Request, or Depends(...)"
        )
    plan.scalars.append(scalar)


def _plan_form_parameter(
    plan: SignaturePlan,
    where: str,
    name: str,
    annotation: Any,
    metadata: tuple[Any, ...],
    default: Any,
    marker: Param | Body | None,
) -> None:
    """A form field (text, like a query parameter), file, model or the whole FormData."""
    form_marker = marker if isinstance(marker, Form) else None
    plan.form = True
    try:
        if form_marker is not None:
            scalar = scalar_param(name, annotation, metadata, default, form_marker)
            if scalar is not None:
                plan.scalars.append(scalar)
                return
        from duoweb.form_params import plan_form_parameter

        part = plan_form_parameter(name, annotation, metadata, default, form_marker)
    except RouteDefinitionError:
        raise
    except Exception as exc:
        raise RouteDefinitionError(
            f"{where}: form parameter {name!r}: {annotation!r} cannot be read: {exc}"
        ) from exc
    if part is None:
        raise RouteDefinitionError(
            f"{where}: form parameter {name!r} has unsupported type {annotation!r}; a form "
            "parameter is a scalar (or list of them), UploadFile, list[UploadFile], a model "
            "or FormData"
        )
    plan.scalars.append(part)


class DependencyNode(msgspec.Struct):
    """One provider call in a route's dependency tree, in the order they must run."""

    key: object
    provider: Callable[..., Any]
    plan: SignaturePlan
    kind: str  # "function", "coroutine", "generator" or "asyncgen"
    needs: list[tuple[str, object]]


def provider_kind(provider: Callable[..., Any]) -> str:
    """How a provider produces its value."""
    if inspect.isasyncgenfunction(provider):
        return "asyncgen"
    if inspect.isgeneratorfunction(provider):
        return "generator"
    if inspect.iscoroutinefunction(provider):
        return "coroutine"
    return "function"


def plan_dependency_graph(
    named: list[tuple[str, Depends]],
    unnamed: tuple[Depends, ...],
    template_params: Mapping[str, Any],
    localns: Mapping[str, Any] | None,
    overrides: Mapping[Callable[..., Any], Callable[..., Any]],
) -> tuple[list[tuple[str, object]], list[DependencyNode]]:
    """The providers to run, in order, and where the ``named`` parameters find their values.

    ``unnamed`` (route and router dependencies) come first and feed no parameter; a provider
    asked for twice (with caching) is one node, run once.
    """
    nodes: dict[object, DependencyNode] = {}
    visiting: set[object] = set()

    def visit(depends: Depends) -> object:
        provider = overrides.get(depends.provider, depends.provider)
        key: object = depends.provider if depends.use_cache else object()
        if key in nodes:
            return key
        if key in visiting:
            raise RouteDefinitionError(f"dependency cycle through {describe(provider)}")
        visiting.add(key)
        plan = plan_signature(provider, template_params, localns)
        needs = [(name, visit(inner)) for name, inner in plan.dependencies]
        nodes[key] = DependencyNode(key, provider, plan, provider_kind(provider), needs)
        visiting.discard(key)
        return key

    for depends in unnamed:
        visit(depends)
    needs: list[tuple[str, object]] = [(name, visit(depends)) for name, depends in named]
    return needs, list(nodes.values())


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
    ) -> None:
        self.handler = handler
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
        hints = _route_hints(handler, localns)
        self.plan = plan_signature(handler, template_params, localns, hints)
        where = describe(handler)
        self.param_types = {
            name: _path_kind(where, name, self.plan.path_types[name], template_params[name])
            for name in self.plan.path
        }
        self.response_plan = ResponsePlan(hints.get("return", inspect.Parameter.empty), status_code)
        self._overrides = overrides
        self._overrides_version = -1
        self.nodes: list[DependencyNode] = []
        self.plan_dependencies()
        for node in self.nodes:  # path parameters only providers read convert by their types
            provider = describe(node.provider)
            for name in node.plan.path:
                kind = _path_kind(provider, name, node.plan.path_types[name], template_params[name])
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
        self.reads_body = self._reads_body()
        #: No dependencies: the handler's own parameters are all there is to extract.
        self.simple = not self.plan.dependencies and not dependencies
        plan = self.plan
        #: Path parameters only, and maybe a BackgroundTasks: nothing to extract.
        path_and_tasks = (
            self.simple
            and not plan.scalars
            and plan.body is None
            and plan.request is None
            and plan.state is None
        )
        #: Only path parameters: the router's params dict is the argument dict as it is.
        self.path_only = path_and_tasks and plan.tasks is None
        #: ...and a def handler: the dispatcher calls it with no further ceremony (True), or
        #: with a new BackgroundTasks as the parameter this 1-tuple names (the keyword names
        #: of a vectorcall: the compiled path's cheap way in for such routes); False for
        #: every other route.
        self.direct: bool | tuple[str] = (
            False
            if not path_and_tasks or self.is_async or wrap is not None
            else True
            if plan.tasks is None
            else (plan.tasks,)
        )
        #: ...and inline: the ASGI dispatcher calls it on the loop, as the WSGI one does.
        self.direct_inline: bool | tuple[str] = self.direct if inline else False
        #: Turn a handler result into a Response, as the return annotation says.
        self.render = self.response_plan.render

    # --- planning ----------------------------------------------------------------------------

    def plan_dependencies(self) -> None:
        """(Re)build the ordered provider list, applying the app's dependency overrides."""
        version = getattr(self._overrides, "version", 0)
        if not self.plan.dependencies and not self.dependencies:  # most routes: nothing to plan
            self.needs: list[tuple[str, object]] = []
            self.nodes = []
            self.stacked = False
            self.sync_inline = self.inline and not self.is_async
            self._overrides_version = version
            self._plan_responders()
            return
        self.needs, self.nodes = plan_dependency_graph(
            self.plan.dependencies,
            self.dependencies,
            self.template_params,
            self._localns,
            self._overrides,
        )
        #: Some provider is a generator: calls need an exit stack for its cleanup.
        self.stacked = any(node.kind in ("generator", "asyncgen") for node in self.nodes)
        #: Under ASGI, run the whole call synchronously on the loop: the route is inline and
        #: neither the handler nor any provider is async.
        self.sync_inline = (
            self.inline
            and not self.is_async
            and all(node.kind in ("function", "generator") for node in self.nodes)
        )
        self._overrides_version = version
        self._plan_responders()

    def _plan_responders(self) -> None:
        """Wrap the responders for a form body and for router middleware, when the route has them.

        A route that reads a form parses it (streamed) before extracting its arguments. The
        wrapped responders are instance attributes, so routes without either pay nothing.
        """
        #: Some parameter of the handler or a dependency comes from a form body.
        self.reads_form = self.plan.form or any(node.plan.form for node in self.nodes)
        self.__dict__.pop("respond_sync", None)
        self.__dict__.pop("respond_async", None)
        if not self.reads_form and self.wrap is None:
            return
        self.sync_inline = False  # the form is received, or the middleware run, first
        respond_sync: Any = functools.partial(Endpoint.respond_sync, self)
        respond_async: Any = functools.partial(Endpoint.respond_async, self)
        if self.reads_form:
            from duoweb.form_params import form_responders

            respond_sync, respond_async = form_responders(
                respond_sync, respond_async, self.form_limits, self.max_body_size
            )
        if self.wrap is not None:
            respond_sync, respond_async = self.wrap(respond_sync, respond_async)
        self.respond_sync = respond_sync  # type: ignore[method-assign]
        self.respond_async = respond_async  # type: ignore[method-assign]

    def takes_background_tasks(self) -> bool:
        """True when the handler or one of its dependencies takes ``BackgroundTasks``."""
        self._refresh()
        return self.plan.tasks is not None or any(n.plan.tasks is not None for n in self.nodes)

    def uses_app_state(self) -> bool:
        """True when the handler or one of its dependencies takes an ``AppState`` parameter.

        Dependency overrides set since registration are applied first.
        """
        self._refresh()
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

    def _refresh(self) -> None:
        if getattr(self._overrides, "version", 0) != self._overrides_version:
            self.plan_dependencies()
            self.reads_body = self._reads_body()

    # --- per request -------------------------------------------------------------------------

    def _validated(
        self, request: Request
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | tuple[()]]:
        """The handler's and providers' own arguments, all checked together (one 422)."""
        if not self.simple:
            self._refresh()
        errors: list[ValidationErrorItem] = []
        nodes = self.nodes
        provider_args = [node.plan.extract(request, errors) for node in nodes] if nodes else ()
        arguments = self.plan.extract(request, errors)
        if errors:
            raise RequestValidationError(errors)
        return arguments, provider_args

    def _own_arguments(self, request: Request) -> dict[str, Any]:
        """The arguments of a handler without dependencies; failed checks raise one 422."""
        errors: list[ValidationErrorItem] = []
        arguments = self.plan.extract(request, errors)
        if errors:
            raise RequestValidationError(errors)
        return arguments

    def _arguments_sync(
        self, request: Request, stack: contextlib.ExitStack | None
    ) -> dict[str, Any]:
        """Every argument, running providers synchronously; all checks fail together (422)."""
        arguments, provider_args = self._validated(request)
        nodes = self.nodes
        if nodes:
            values: dict[object, Any] = {}
            for node, kwargs in zip(nodes, provider_args, strict=True):
                for name, key in node.needs:
                    kwargs[name] = values[key]
                values[node.key] = _call_provider_sync(node, kwargs, stack)
            for name, key in self.needs:
                arguments[name] = values[key]
        return arguments

    async def _arguments_async(
        self, request: Request, stack: contextlib.AsyncExitStack | None, pool: ThreadPool
    ) -> dict[str, Any]:
        """Every argument, awaiting providers; all checks fail together (422)."""
        arguments, provider_args = self._validated(request)
        nodes = self.nodes
        if nodes:
            values: dict[object, Any] = {}
            for node, kwargs in zip(nodes, provider_args, strict=True):
                for name, key in node.needs:
                    kwargs[name] = values[key]
                values[node.key] = await _call_provider_async(
                    node, kwargs, stack, pool, self.inline
                )
            for name, key in self.needs:
                arguments[name] = values[key]
        return arguments

    def respond_sync(self, request: Request) -> Response:
        """Run the handler for ``request`` and render its result (WSGI mode)."""
        if self.simple:
            arguments = request.path_params if self.path_only else self._own_arguments(request)
        elif self.stacked:
            with contextlib.ExitStack() as stack:
                result = self.handler(**self._arguments_sync(request, stack))
                if self.is_async:
                    result = run_on_thread_loop(result)
                return self.render(result)
            raise _suppressed(self)
        else:
            arguments = self._arguments_sync(request, None)
        result = self.handler(**arguments)
        if self.is_async:
            result = run_on_thread_loop(result)
        return self.render(result)

    async def respond_async(self, request: Request, pool: ThreadPool) -> Response:
        """Run the handler for ``request`` and render its result (ASGI mode)."""
        if self.simple:
            arguments = request.path_params if self.path_only else self._own_arguments(request)
        elif self.stacked:
            async with contextlib.AsyncExitStack() as stack:
                arguments = await self._arguments_async(request, stack, pool)
                return self.render(await self._invoke_async(arguments, pool))
            raise _suppressed(self)
        else:
            arguments = await self._arguments_async(request, None, pool)
        if self.is_async:
            return self.render(await self.handler(**arguments))
        if self.inline:
            return self.render(self.handler(**arguments))
        return self.render(await pool.run(self.handler, **arguments))

    async def _invoke_async(self, arguments: dict[str, Any], pool: ThreadPool) -> Any:
        if self.is_async:
            return await self.handler(**arguments)
        if self.inline:
            return self.handler(**arguments)
        return await pool.run(self.handler, **arguments)

    def __repr__(self) -> str:
        return f"<Endpoint {'|'.join(self.methods)} {self.template} -> {self.name}>"


def _path_kind(where: str, name: str, annotation: Any, declared: str | None) -> str:
    """The router converter for a path parameter, from its annotation and the template."""
    annotation, _ = split_annotated(annotation)
    if declared is not None and declared not in BUILTIN_KINDS:
        return declared  # a custom converter: its own return type, whatever the annotation
    if declared == "path" and annotation is str:
        return declared
    kind = CONVERTER_FOR_TYPE.get(annotation)
    if kind is None:
        raise RouteDefinitionError(
            f"{where}: path parameter {name!r} is annotated {annotation!r}; "
            "use int, float, str or uuid.UUID"
        )
    if declared is not None and declared != kind:
        raise RouteDefinitionError(
            f"{where}: path parameter {name!r} is {declared!r} in the template "
            f"but annotated {annotation!r}"
        )
    return kind


def _logged(node: DependencyNode, exc: Exception) -> None:
    from duoweb.errors import HTTPError

    if not isinstance(exc, HTTPError):
        logger.error("dependency %s failed", describe(node.provider), exc_info=exc)


def _suppressed(endpoint: Endpoint) -> RuntimeError:
    return RuntimeError(
        f"a generator dependency of {endpoint.name!r} swallowed an exception; re-raise it"
    )


def _call_provider_sync(
    node: DependencyNode, kwargs: dict[str, Any], stack: contextlib.ExitStack | None
) -> Any:
    try:
        kind = node.kind
        if kind == "function":
            return node.provider(**kwargs)
        if kind == "coroutine":
            return run_on_thread_loop(node.provider(**kwargs))
        assert stack is not None  # generator providers always come with a stack
        if kind == "generator":
            return stack.enter_context(contextlib.contextmanager(node.provider)(**kwargs))
        manager = contextlib.asynccontextmanager(node.provider)(**kwargs)
        value = run_on_thread_loop(manager.__aenter__())
        stack.push(lambda *exc: run_on_thread_loop(manager.__aexit__(*exc)))
        return value
    except Exception as exc:
        _logged(node, exc)
        raise


async def _call_provider_async(
    node: DependencyNode,
    kwargs: dict[str, Any],
    stack: contextlib.AsyncExitStack | None,
    pool: ThreadPool,
    inline: bool,
) -> Any:
    try:
        kind = node.kind
        if kind == "coroutine":
            return await node.provider(**kwargs)
        if kind == "function":
            if inline:
                return node.provider(**kwargs)
            return await pool.run(node.provider, **kwargs)
        assert stack is not None  # generator providers always come with a stack
        if kind == "asyncgen":
            manager = contextlib.asynccontextmanager(node.provider)(**kwargs)
            return await stack.enter_async_context(manager)
        sync_manager = contextlib.contextmanager(node.provider)(**kwargs)
        if inline:
            return stack.enter_context(sync_manager)
        value = await pool.run(sync_manager.__enter__)

        async def leave(*exc: Any) -> bool | None:
            return await pool.run(sync_manager.__exit__, *exc)

        stack.push_async_exit(leave)
        return value
    except Exception as exc:
        _logged(node, exc)
        raise


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
        for param in inspect.signature(handler).parameters:
            annotation = hints.get(param, str)
            base, metadata = split_annotated(annotation)
            if any(isinstance(m, AppStateMarker) for m in metadata):
                self.state_param = param
            elif isinstance(base, type) and issubclass(base, BackgroundTasks):
                self.tasks_param = param
            elif isinstance(annotation, type) and issubclass(annotation, WebSocket):
                self.websocket_param = param
            elif param in template_params:
                self.param_types[param] = _path_kind(
                    where, param, annotation, template_params[param]
                )
            else:
                raise RouteDefinitionError(
                    f"{where}: parameter {param!r} is neither the WebSocket nor in the path "
                    f"{template!r}, a BackgroundTasks or an AppState (read query and headers "
                    "from the WebSocket object)"
                )
        if not self.websocket_param:
            raise RouteDefinitionError(f"{where}: needs a parameter annotated WebSocket")
        #: Route and router dependencies, run with the handshake before the handler.
        self.dependencies = dependencies
        #: Router middleware around the handshake and the session, outermost first.
        self.middleware = middleware
        self._template_params = template_params
        self._localns = localns
        self._overrides: Mapping[Callable[..., Any], Callable[..., Any]] = overrides or {}
        self._overrides_version = -1
        #: The providers to run, in order (the route's dependency graph).
        self.nodes: list[DependencyNode] = []
        self.plan_dependencies()

    def plan_dependencies(self) -> None:
        """(Re)build the provider list, applying the app's dependency overrides."""
        self._overrides_version = getattr(self._overrides, "version", 0)
        if not self.dependencies:
            return
        _, self.nodes = plan_dependency_graph(
            [], self.dependencies, self._template_params, self._localns, self._overrides
        )
        for node in self.nodes:
            if node.plan.body is not None or node.plan.form:
                raise RouteDefinitionError(
                    f"{describe(node.provider)}: a WebSocket route's dependency cannot read "
                    "a request body"
                )

    async def run_dependencies(
        self, request: Request, stack: contextlib.AsyncExitStack, pool: ThreadPool
    ) -> None:
        """Run the route's providers for the handshake ``request``; failures raise."""
        if getattr(self._overrides, "version", 0) != self._overrides_version:
            self.plan_dependencies()
        errors: list[ValidationErrorItem] = []
        provider_args = [node.plan.extract(request, errors) for node in self.nodes]
        if errors:
            raise RequestValidationError(errors)
        values: dict[object, Any] = {}
        for node, kwargs in zip(self.nodes, provider_args, strict=True):
            for name, key in node.needs:
                kwargs[name] = values[key]
            values[node.key] = await _call_provider_async(node, kwargs, stack, pool, False)
