"""Where each parameter of a handler or provider comes from, read once from its signature.

``plan_signature`` turns a function's parameters and annotations into a ``SignaturePlan``;
its ``extract`` fills a call's arguments from a request. Annotations are resolved here too.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from duoweb._serve import BackgroundTasks, tasks_for
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
from duoweb.routing import BUILTIN_KINDS, CONVERTER_FOR_TYPE, RouteDefinitionError


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
    #: Some parameter gets the request itself, its BackgroundTasks or the app's state.
    contextual: bool = False
    #: ``tasks`` when it is the only such parameter (the usual case): one test per request.
    tasks_alone: str | None = None
    #: The parameters that can only be passed by keyword.
    keyword_only: tuple[str, ...] = ()

    def extract(self, request: Request, errors: list[ValidationErrorItem]) -> dict[str, Any]:
        """Every argument except dependencies; failed checks are added to ``errors``."""
        params = request.path_params
        arguments = {name: params[name] for name in self.path} if self.path else {}
        if self.contextual:  # one test for the three: most plans take none of them
            alone = self.tasks_alone
            if alone is not None:
                arguments[alone] = tasks_for(request)
            else:
                if self.request is not None:
                    arguments[self.request] = request
                if self.tasks is not None:
                    arguments[self.tasks] = tasks_for(request)
                if self.state is not None:
                    arguments[self.state] = request.app.state
        for scalar in self.scalars:
            arguments[scalar.name] = scalar.extract(request, errors)
        if self.body is not None:
            try:
                arguments[self.body.name] = self.body.extract(request)
            except RequestValidationError as exc:
                errors.extend(exc.errors)
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


def route_hints(function: Callable[..., Any], localns: Mapping[str, Any] | None) -> dict[str, Any]:
    """``resolve_hints``, failing as a route definition error."""
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
        hints = route_hints(function, localns)
    plan = SignaturePlan(function, [], None, [], None, [], {})
    for name, kind, default in _parameters(function):
        if kind in (_VAR_POSITIONAL, _VAR_KEYWORD):
            raise RouteDefinitionError(f"{where}: *{name} parameters are not supported")
        if kind is _POSITIONAL_ONLY:
            raise RouteDefinitionError(f"{where}: positional-only parameter {name!r}")
        annotation = hints.get(name, str)  # unannotated: text
        # ``default`` is inspect.Parameter.empty when the parameter has none.
        _plan_parameter(plan, where, name, annotation, default, template_params)
        if kind is _KEYWORD_ONLY:
            plan.keyword_only += (name,)
    plan.contextual = plan.request is not None or plan.tasks is not None or plan.state is not None
    if plan.request is None and plan.state is None:
        plan.tasks_alone = plan.tasks
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


def path_kind(where: str, name: str, annotation: Any, declared: str | None) -> str:
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
