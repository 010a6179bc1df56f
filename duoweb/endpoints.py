"""A handler's signature compiled once, at registration, into a plan for calling it."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from duoweb.encoding import json_encode
from duoweb.requests import Request
from duoweb.responses import JSON_HEADERS, Response
from duoweb.routing import CONVERTER_FOR_TYPE, RouteDefinitionError

Handler = Callable[..., Any]


def _describe(handler: Handler) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)!s}"


class Endpoint:
    """One route's handler with everything per-request work needs, computed at startup."""

    __slots__ = (
        "handler",
        "inline",
        "is_async",
        "max_body_size",
        "methods",
        "name",
        "param_types",
        "passes_path_params_only",
        "reads_body",
        "request_param",
        "status_code",
        "template",
    )

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
    ) -> None:
        self.handler = handler
        self.template = template
        self.methods = methods
        self.name = name
        self.status_code = status_code
        self.max_body_size = max_body_size
        self.inline = inline
        self.is_async = inspect.iscoroutinefunction(handler)
        self.request_param: str | None = None
        self.param_types: dict[str, str] = {}
        self._plan(template_params)
        self.reads_body = self.request_param is not None
        self.passes_path_params_only = self.request_param is None

    def _plan(self, template_params: dict[str, str | None]) -> None:
        """Decide where each parameter comes from; unsupported ones fail at startup."""
        where = _describe(self.handler)
        try:
            hints = typing.get_type_hints(self.handler, include_extras=True)
        except Exception as exc:
            raise RouteDefinitionError(f"{where}: cannot resolve annotations: {exc}") from exc
        signature = inspect.signature(self.handler)
        for name, parameter in signature.parameters.items():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise RouteDefinitionError(f"{where}: *{name} parameters are not supported")
            annotation = hints.get(name, inspect.Parameter.empty)
            if isinstance(annotation, type) and issubclass(annotation, Request):
                self.request_param = name
            elif name in template_params:
                self.param_types[name] = self._path_kind(where, name, annotation, template_params)
            else:
                raise RouteDefinitionError(
                    f"{where}: parameter {name!r} is not in the path {self.template!r} "
                    "and is not the Request"
                )
        for missing in template_params.keys() - self.param_types.keys():
            raise RouteDefinitionError(
                f"{where}: path parameter {missing!r} of {self.template!r} has no handler parameter"
            )

    @staticmethod
    def _path_kind(where: str, name: str, annotation: Any, template: dict[str, str | None]) -> str:
        declared = template[name]
        if annotation is inspect.Parameter.empty:
            return declared or "str"
        kind = CONVERTER_FOR_TYPE.get(annotation)
        if kind is None:
            raise RouteDefinitionError(
                f"{where}: path parameter {name!r} is annotated {annotation!r}; "
                "use int, float, str or uuid.UUID"
            )
        if declared is None:
            return kind
        if declared == "path" and kind == "str":
            return "path"
        if declared != kind:
            raise RouteDefinitionError(
                f"{where}: path parameter {name!r} is {declared!r} in the template "
                f"but annotated {annotation!r}"
            )
        return kind

    def arguments(self, request: Request) -> dict[str, Any]:
        """The keyword arguments for one call of the handler."""
        if self.passes_path_params_only:
            return request.path_params
        arguments = dict(request.path_params)
        if self.request_param is not None:
            arguments[self.request_param] = request
        return arguments

    def render(self, result: Any) -> Response:
        """Turn what the handler returned into a Response."""
        if isinstance(result, Response):
            return result
        if result is None:
            return Response._trusted(204, b"", [])
        return Response._trusted(self.status_code, json_encode(result), list(JSON_HEADERS))

    def __repr__(self) -> str:
        return f"<Endpoint {'|'.join(self.methods)} {self.template} -> {self.name}>"
