"""The app's OpenAPI 3.1 (or 3.0) document, built once from its routes' types.

Everything comes from what the routes already declare: path templates and converters, the
query/header/cookie parameters and their constraints, body and response models (JSON Schema
from pydantic's and msgspec's own generators), status codes, docstrings, tags, security, and
the errors the framework itself answers with (problem+json; 422 with the validation shape).
"""

from __future__ import annotations

import contextlib
import inspect
import re
import typing
from typing import TYPE_CHECKING, Any

import msgspec

from duoweb._route_templates import INT_MAX, INT_MIN
from duoweb.errors import PROBLEM_MEDIA_TYPE, ValidationErrorItem, status_phrase
from duoweb.models import BodyParam, is_model_type
from duoweb.openapi_schemas import Schema, SchemaRegistry
from duoweb.openapi_security import SecurityRegistry, is_guard_node, is_security_node
from duoweb.openapi_v30 import convert_document
from duoweb.params import ScalarParam, split_annotated, strip_optional
from duoweb.responses import JSONResponse, Response
from duoweb.routing import RouteDefinitionError, template_parameters
from duoweb.type_guards import is_dict

if TYPE_CHECKING:
    from duoweb.app import App
    from duoweb.endpoints import Endpoint
    from duoweb.signatures import SignaturePlan

VERSIONS = ("3.1", "3.0")

_PATH_KIND_SCHEMAS: dict[str, Schema] = {
    "int": {"type": "integer", "format": "int64", "minimum": INT_MIN, "maximum": INT_MAX},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
    "str": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"},
    "path": {"type": "string"},
}

_KIND_PARAM = re.compile(r"\{([^{}:]+):[^{}]*\}")

_RESPONSES = "#/components/responses/"


def build_document(app: App, version: str = "3.1") -> dict[str, Any]:
    """The OpenAPI document of ``app``: "3.1" (OpenAPI 3.1.0) or "3.0" (OpenAPI 3.0.3)."""
    if version not in VERSIONS:
        raise ValueError(f"OpenAPI version must be one of {', '.join(VERSIONS)}, not {version!r}")
    # Through JSON and back: generators may leave tuples or other non-JSON values in schemas.
    document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(_Builder(app).build()))
    return convert_document(document) if version == "3.0" else document


def _response_content(media_type: str, schema: Schema) -> dict[str, Any]:
    return {media_type: {"schema": schema}}


class _Builder:
    """Builds one 3.1 document; holds the schema registry and what operations share."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = SchemaRegistry()
        self.shared_responses: dict[str, dict[str, Any]] = {}
        self.operation_ids: set[str] = set()
        self.security = SecurityRegistry(app.security_schemes)
        self.reserved_ids: set[str] = set()  # explicit ids: defaults stay clear of them
        self.problem = self.registry.framework_component("Problem", _problem_schema())
        errors = self.registry.schema(list[ValidationErrorItem], "serialization")
        self.validation_problem = self.registry.framework_component(
            "ValidationProblem", _validation_problem_schema(errors)
        )

    # --- document ----------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        """The whole 3.1 document."""
        app = self.app
        info: dict[str, Any] = {"title": app.title, "version": app.version}
        if app.description:
            info["description"] = app.description
        paths: dict[str, dict[str, Any]] = {}
        tags: dict[str, None] = {}
        for endpoint in app.endpoints:
            if endpoint.include_in_schema and endpoint.operation_id:
                for method in endpoint.methods:
                    suffix = f"_{method.lower()}" if len(endpoint.methods) > 1 else ""
                    self.reserved_ids.add(endpoint.operation_id + suffix)
        for endpoint in app.endpoints:
            if not endpoint.include_in_schema:
                continue
            item = paths.setdefault(_openapi_path(endpoint.template), {})
            for method in endpoint.methods:
                key = method.lower()
                if key in item:
                    continue  # the router answers the first registration; so does the doc
                item[key] = self.operation(endpoint, method)
                tags.update(dict.fromkeys(endpoint.tags))
        document: dict[str, Any] = {"openapi": "3.1.0", "info": info}
        if app.servers:
            document["servers"] = [dict(server) for server in app.servers]
        document["paths"] = paths
        components: dict[str, Any] = {}
        schemas = self.registry.finish()
        if schemas:
            components["schemas"] = schemas
        if self.shared_responses:
            components["responses"] = dict(sorted(self.shared_responses.items()))
        if self.security.schemes:
            components["securitySchemes"] = dict(self.security.schemes)
        if components:
            document["components"] = components
        if tags:
            document["tags"] = [{"name": tag} for tag in tags]
        return document

    # --- operations --------------------------------------------------------------------------

    def operation(self, endpoint: Endpoint, method: str) -> dict[str, Any]:
        """The Operation Object for one method of one route."""
        operation: dict[str, Any] = {}
        if endpoint.tags:
            operation["tags"] = list(endpoint.tags)
        summary, description = _summary_and_description(endpoint)
        if summary:
            operation["summary"] = summary
        if description:
            operation["description"] = description
        operation["operationId"] = self.operation_id(endpoint, method)
        # A security scheme's credential is documented by its scheme, not as a parameter.
        plans = [endpoint.plan, *(n.plan for n in endpoint.nodes if not is_security_node(n))]
        discovered = self.security.requirements(endpoint)
        security = discovered if endpoint.security is None else endpoint.security
        parameters = self.parameters(endpoint, plans)
        if parameters:
            operation["parameters"] = parameters
        bodies = [plan.body for plan in plans if plan.body is not None]
        if bodies:
            operation["requestBody"] = self.request_body(bodies)
        elif endpoint.reads_form:
            from duoweb.openapi_forms import form_request_body  # only apps with forms

            operation["requestBody"] = form_request_body(self.registry, plans)
        operation["responses"] = self.responses(endpoint, plans, bool(bodies), bool(discovered))
        if endpoint.deprecated:
            operation["deprecated"] = True
        if security is not None:
            operation["security"] = [
                {name: list(scopes) for name, scopes in requirement.items()}
                for requirement in security
            ]
        return operation

    def operation_id(self, endpoint: Endpoint, method: str) -> str:
        """A stable, unique operationId: the explicit one, else the route name.

        A route with several methods gets ``_<method>`` appended; a default id that another
        operation already has gets a number. Two routes given the same explicit id are an error.
        """
        suffix = f"_{method.lower()}" if len(endpoint.methods) > 1 else ""
        if endpoint.operation_id:
            candidate = endpoint.operation_id + suffix
            if candidate in self.operation_ids:
                raise RouteDefinitionError(
                    f"operation_id {candidate!r} is given to two operations; "
                    "an OpenAPI operationId must be unique"
                )
        else:
            base = candidate = endpoint.name + suffix
            counter = 1
            while candidate in self.operation_ids or candidate in self.reserved_ids:
                counter += 1
                candidate = f"{base}_{counter}"
        self.operation_ids.add(candidate)
        return candidate

    # --- parameters --------------------------------------------------------------------------

    def parameters(self, endpoint: Endpoint, plans: list[SignaturePlan]) -> list[dict[str, Any]]:
        """Path parameters in template order, then query/header/cookie ones (deduplicated)."""
        found: list[dict[str, Any]] = []
        for name, declared in template_parameters(endpoint.template).items():
            kind = endpoint.param_types.get(name) or declared or "str"
            schema = dict(_PATH_KIND_SCHEMAS.get(kind, {"type": "string", "minLength": 1}))
            found.append({"name": name, "in": "path", "required": True, "schema": schema})
        seen: set[tuple[str, str]] = set()
        for plan in plans:
            for scalar in plan.scalars:
                if not isinstance(scalar, ScalarParam) or scalar.source == "form":
                    continue  # a form's fields are in the request body
                where = (
                    scalar.source,
                    scalar.key.lower() if scalar.source == "header" else scalar.key,
                )
                if where in seen:
                    continue
                seen.add(where)
                found.append(self.scalar_parameter(scalar))
        return found

    def scalar_parameter(self, scalar: ScalarParam) -> dict[str, Any]:
        """The Parameter Object of a query, header or cookie parameter."""
        parameter: dict[str, Any] = {"name": scalar.key, "in": scalar.source}
        marker = scalar.marker
        if marker is not None and marker.description:
            parameter["description"] = marker.description
        parameter["required"] = scalar.required
        if marker is not None and marker.deprecated:
            parameter["deprecated"] = True
        extra: Schema = {}
        if not scalar.required and scalar.default is not None:
            _set_builtin(extra, "default", scalar.default)
        if marker is not None and marker.examples:
            _set_builtin(extra, "examples", list(marker.examples))
        if scalar.multi:
            if scalar.source == "header":
                parameter["style"] = "simple"
            elif scalar.source == "cookie":
                extra["maxItems"] = 1  # a cookie carries one value: the list has one item
            else:
                parameter["style"] = "form"
                parameter["explode"] = True
        parameter["schema"] = self.registry.schema(scalar.target, "validation", extra)
        return parameter

    # --- bodies ------------------------------------------------------------------------------

    def request_body(self, bodies: list[BodyParam]) -> dict[str, Any]:
        """The Request Body Object: JSON, of the (first) body parameter's type."""
        schemas = [self.registry.schema(strip_optional(b.annotation)[0]) for b in bodies]
        schema = schemas[0] if len(schemas) == 1 else {"allOf": schemas}
        return {
            "required": any(body.required for body in bodies),
            "content": _response_content("application/json", schema),
        }

    # --- responses ---------------------------------------------------------------------------

    def responses(
        self,
        endpoint: Endpoint,
        plans: list[SignaturePlan],
        has_body: bool,
        secured: bool = False,
    ) -> dict[str, Any]:
        """Success responses from the return annotation, then the errors duoweb may answer.

        ``secured``: a security scheme in the route's dependencies may answer 401.
        """
        found: dict[str, Any] = {}
        for status, response in self.success_responses(endpoint):
            _merge_response(found, status, response)
        for code, documented in endpoint.responses.items():
            _merge_response(found, str(code), self.user_response(int(code), documented))
        if template_parameters(endpoint.template):
            self.shared(
                found,
                "404",
                "NotFound",
                "No route matches the path (or a path parameter does not convert).",
            )
        reads_query = any(s.source == "query" for plan in plans for s in plan.scalars)
        if has_body or endpoint.reads_body or reads_query or endpoint.reads_form:
            self.shared(
                found,
                "400",
                "BadRequest",
                "Malformed request: JSON body, framing, "
                "Content-Length or too many query parameters.",
            )
        if endpoint.reads_body or endpoint.reads_form:
            self.shared(found, "413", "ContentTooLarge", "The request body is too large.")
        if has_body:
            self.shared(
                found, "415", "UnsupportedMediaType", "The request body is not application/json."
            )
        elif endpoint.reads_form:
            self.shared(
                found,
                "415",
                "FormExpected",
                "The request body is not a form (multipart or urlencoded).",
            )
        if any(plan.scalars or plan.body is not None for plan in plans):
            self.validation_response(found)
        # What the route's security schemes and guards answer, unless the route documents it.
        if secured and "401" not in found:
            self.shared(
                found, "401", "Unauthorized", "Credentials are missing, malformed or not valid."
            )
        if "403" not in found and any(is_guard_node(node) for node in endpoint.nodes):
            self.shared(found, "403", "Forbidden", "The credentials lack a needed scope.")
        # A response that is exactly a shared one refers to it instead of repeating it.
        for status, response in found.items():
            for name, shared in self.shared_responses.items():
                if response is shared:
                    found[status] = {"$ref": _RESPONSES + name}
        return dict(sorted(found.items()))

    def success_responses(self, endpoint: Endpoint) -> list[tuple[str, dict[str, Any]]]:
        """What the handler's return annotation says it answers."""
        annotation = endpoint.response_plan.annotation
        status = str(endpoint.status_code)
        described = {"description": status_phrase(endpoint.status_code)}
        if annotation is None or annotation is type(None):
            return [("204", {"description": "No Content"})]
        if annotation is inspect.Parameter.empty or annotation is typing.Any:
            return [(status, {**described, "content": _response_content("application/json", {})})]
        base, _ = split_annotated(annotation)
        if isinstance(base, type) and issubclass(base, Response):
            return [(status, _response_class_content(base, described))]
        inner, optional = strip_optional(annotation)
        schema = self.registry.schema(inner, "serialization")
        found = [(status, {**described, "content": _response_content("application/json", schema)})]
        if optional:
            found.append(("204", {"description": "No Content"}))
        return found

    def user_response(self, status: int, documented: Any) -> dict[str, Any]:
        """A response the route lists in ``responses=``: a description or a model type."""
        if isinstance(documented, str):
            response: dict[str, Any] = {"description": documented}
            if status >= 400:
                response["content"] = _response_content(PROBLEM_MEDIA_TYPE, self.problem)
            return response
        if is_dict(documented):
            return dict(documented)  # a Response Object written by hand
        if isinstance(documented, type) and issubclass(documented, Response):
            return _response_class_content(documented, {"description": status_phrase(status)})
        schema = self.registry.schema(documented, "serialization")
        description = _doc_first_line(documented) if is_model_type(documented) else None
        return {
            "description": description or status_phrase(status),
            "content": _response_content("application/json", schema),
        }

    def shared(self, found: dict[str, Any], status: str, name: str, description: str) -> None:
        """Add a framework problem response (a reusable component) under ``status``."""
        if name not in self.shared_responses:
            self.shared_responses[name] = {
                "description": description,
                "content": _response_content(PROBLEM_MEDIA_TYPE, self.problem),
            }
        _merge_response(found, status, self.shared_responses[name])

    def validation_response(self, found: dict[str, Any]) -> None:
        """422 with the validation problem shape, or the app's own validation renderer."""
        renderer = self.app.errors.validation_renderer
        if renderer is None:
            if "ValidationFailed" not in self.shared_responses:
                self.shared_responses["ValidationFailed"] = {
                    "description": "The request did not pass validation.",
                    "content": _response_content(PROBLEM_MEDIA_TYPE, self.validation_problem),
                }
            _merge_response(found, "422", self.shared_responses["ValidationFailed"])
            return
        if "ValidationFailed" not in self.shared_responses:
            try:
                hints = typing.get_type_hints(renderer.render, include_extras=True)
            except Exception:
                hints = {}
            returned = hints.get("return", typing.Any)
            schema = (
                {} if returned is typing.Any else self.registry.schema(returned, "serialization")
            )
            media_type = renderer.media_type.split(";", 1)[0].strip() or "application/json"
            self.shared_responses["ValidationFailed"] = {
                "description": "The request did not pass validation.",
                "content": _response_content(media_type, schema),
            }
        _merge_response(found, str(renderer.status), self.shared_responses["ValidationFailed"])


# --- helpers -----------------------------------------------------------------------------------


def _set_builtin(schema: Schema, key: str, value: Any) -> None:
    """``schema[key] = value`` as JSON-ready data, when msgspec can express it."""
    with contextlib.suppress(TypeError, msgspec.EncodeError):
        schema[key] = msgspec.to_builtins(value)


def _openapi_path(template: str) -> str:
    """``/files/{name:path}`` -> ``/files/{name}``."""
    return _KIND_PARAM.sub(r"{\1}", template)


def _doc_first_line(obj: Any) -> str | None:
    doc = inspect.getdoc(obj)
    if not doc:
        return None
    return doc.strip().splitlines()[0].strip() or None


def _summary_and_description(endpoint: Endpoint) -> tuple[str | None, str | None]:
    """The route's summary/description, else its docstring's first line and the rest."""
    doc = inspect.getdoc(endpoint.handler) or ""
    first, _, rest = doc.strip().partition("\n")
    summary = endpoint.summary or first.strip() or None
    description = endpoint.description or rest.strip() or None
    return summary, description


def _response_class_content(cls: type[Response], described: dict[str, Any]) -> dict[str, Any]:
    """A response documented by its Response class: its media type, where it has one."""
    if issubclass(cls, JSONResponse):
        return {**described, "content": _response_content("application/json", {})}
    from duoweb.streaming import EventSourceResponse

    if issubclass(cls, EventSourceResponse):
        return {**described, "content": _response_content("text/event-stream", {"type": "string"})}
    media_type = cls.media_type
    if media_type is None:
        return dict(described)  # a plain Response: anything, decided at run time
    bare = media_type.split(";", 1)[0].strip()
    schema: Schema = {"type": "string"} if bare.startswith("text/") else {}
    return {**described, "content": _response_content(bare, schema)}


def _merge_response(found: dict[str, Any], status: str, response: dict[str, Any]) -> None:
    """Add ``response`` under ``status``; two responses for one status become one."""
    existing = found.get(status)
    if existing is None:
        found[status] = response
        return
    merged: dict[str, Any] = dict(existing)
    descriptions = [d for d in (existing.get("description"), response.get("description")) if d]
    merged["description"] = " / ".join(dict.fromkeys(descriptions)) or status
    content = dict(existing.get("content", {}))
    for media_type, media in response.get("content", {}).items():
        if media_type in content and content[media_type].get("schema") != media.get("schema"):
            content[media_type] = {
                "schema": {"anyOf": [content[media_type]["schema"], media.get("schema", {})]}
            }
        else:
            content.setdefault(media_type, media)
    if content:
        merged["content"] = content
    found[status] = merged


def _problem_schema() -> Schema:
    """RFC 9457 problem details, as duoweb renders every HTTPError."""
    return {
        "title": "Problem",
        "description": "An RFC 9457 problem: what went wrong, for every error duoweb answers.",
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
        },
        "required": ["type", "title", "status"],
    }


def _validation_problem_schema(errors: Schema) -> Schema:
    """The 422 problem: a Problem with the list of failed checks (loc, msg, type)."""
    return {
        "title": "ValidationProblem",
        "description": "The request did not pass validation; ``errors`` says where and why.",
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "const": 422},
            "detail": {"type": "string"},
            "errors": errors,
        },
        "required": ["type", "title", "status", "errors"],
    }
