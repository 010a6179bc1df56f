"""The OpenAPI request body of a route that reads a form: its fields, files and models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from duoweb.form_params import FileParam, FormDataParam, FormModelParam
from duoweb.form_parsing import MULTIPART, URLENCODED
from duoweb.params import ScalarParam, strip_optional

if TYPE_CHECKING:
    from duoweb.openapi_schemas import Schema, SchemaRegistry
    from duoweb.signatures import SignaturePlan

#: How OpenAPI (3.0 and 3.1 alike, and Swagger UI) says "a file to upload".
BINARY: dict[str, str] = {"type": "string", "format": "binary"}


def form_request_body(registry: SchemaRegistry, plans: list[SignaturePlan]) -> dict[str, Any]:
    """The Request Body Object: multipart/form-data when files are taken, else urlencoded too."""
    properties: dict[str, Schema] = {}
    required: list[str] = []
    models: list[Schema] = []
    takes_files = False
    any_form = False
    for plan in plans:
        for part in plan.scalars:
            if isinstance(part, ScalarParam) and part.source == "form":
                properties[part.key] = _field_schema(registry, part)
                if part.required:
                    required.append(part.key)
            elif isinstance(part, FileParam):
                takes_files = True
                properties[part.key] = {"type": "array", "items": BINARY} if part.multi else BINARY
                if part.required:
                    required.append(part.key)
            elif isinstance(part, FormModelParam):
                models.append(registry.schema(strip_optional(part.annotation)[0]))
                any_form = any_form or part.required
            elif isinstance(part, FormDataParam):
                takes_files = True  # any form may come, files included
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(dict.fromkeys(required))
    if models:
        schema = models[0] if len(models) == 1 and not properties else {"allOf": [*models, schema]}
    content: dict[str, Any] = {MULTIPART: {"schema": schema}}
    if not takes_files:
        content = {URLENCODED: {"schema": schema}, **content}
    return {"required": bool(required) or any_form, "content": content}


def _field_schema(registry: SchemaRegistry, field: ScalarParam) -> Schema:
    extra: Schema = {}
    marker = field.marker
    if marker is not None and marker.description:
        extra["description"] = marker.description
    if not field.required and field.default is not None:
        extra["default"] = field.default
    return registry.schema(field.target, "validation", extra)
