"""OpenAPI 3.1 documents rewritten as OpenAPI 3.0.3, for tools that only read 3.0.

3.1 uses plain JSON Schema (2020-12); 3.0 uses an older, extended subset of it. The rewrite
keeps the meaning wherever 3.0 can say it: ``null`` in a type list or union becomes
``nullable: true``, ``const`` becomes a one-value ``enum``, numeric ``exclusiveMinimum`` /
``exclusiveMaximum`` become the boolean form, ``examples`` become ``example``, tuples
(``prefixItems``) become arrays of the union of their item types, and a ``$ref`` with siblings
is wrapped in ``allOf`` (3.0 ignores a ``$ref``'s siblings). Keywords 3.0 lacks are dropped.
"""

from __future__ import annotations

import copy
from typing import Any

from duoweb.type_guards import is_dict, is_list

Schema = dict[str, Any]

# Keywords 3.0's Schema Object does not have; dropping them only loosens the schema.
_DROPPED = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "$dynamicRef",
        "$dynamicAnchor",
        "const",
        "contains",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "dependentRequired",
        "dependentSchemas",
        "else",
        "examples",
        "if",
        "maxContains",
        "minContains",
        "patternProperties",
        "prefixItems",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)

# Keywords whose value is one schema, a list of schemas, or a name -> schema map.
_ONE = ("not", "additionalProperties", "items")
_MANY = ("allOf", "anyOf", "oneOf")
_MAP = ("properties",)

_NULL = {"type": "null"}


def convert_schema(schema: Any) -> Any:
    """A JSON Schema 2020-12 (OpenAPI 3.1) schema as an OpenAPI 3.0 Schema Object."""
    if isinstance(schema, bool):
        return {} if schema else {"not": {}}
    if not is_dict(schema):
        return schema
    source = dict(schema)
    out: Schema = {}
    nullable = False

    # Unions with null.
    for key in ("anyOf", "oneOf"):
        members = source.get(key)
        if is_list(members) and any(_is_null(m) for m in members):
            rest = [m for m in members if not _is_null(m)]
            nullable = True
            del source[key]
            if len(rest) == 1:
                single = convert_schema(rest[0])
                if "$ref" in single:
                    source.setdefault("allOf", []).append(single)
                else:
                    for name, value in single.items():
                        source.setdefault(name, value)
            elif rest:
                source[key] = rest

    kind = source.pop("type", None)
    if is_list(kind):
        kinds = [k for k in kind if k != "null"]
        nullable = nullable or len(kinds) < len(kind)
        if len(kinds) == 1:
            out["type"] = kinds[0]
        elif kinds:
            out["anyOf"] = [{"type": k} for k in kinds]
    elif kind == "null":
        nullable = True
        out["enum"] = [None]
    elif kind is not None:
        out["type"] = kind

    if "const" in source:
        out["enum"] = [source["const"]]
    if "examples" in source and isinstance(source["examples"], list) and source["examples"]:
        out["example"] = source["examples"][0]
    for bound, plain, sign in (
        ("exclusiveMinimum", "minimum", 1),
        ("exclusiveMaximum", "maximum", -1),
    ):
        value = source.pop(bound, None)
        if isinstance(value, bool):
            out[bound] = value
        elif value is not None:
            inclusive = source.get(plain)
            if inclusive is not None and (inclusive - value) * sign > 0:
                continue  # the inclusive bound is the tighter one: keep it as it is
            source.pop(plain, None)
            out[plain] = value
            out[bound] = True
    if "prefixItems" in source:
        items = [convert_schema(item) for item in source["prefixItems"]]
        extra = source.get("items")
        if extra not in (None, False):
            items.append(convert_schema(extra))
        source["items"] = items[0] if len(items) == 1 else {"anyOf": items}
        if not items:
            source["items"] = {}
    if source.get("contentEncoding") == "base64":
        out.setdefault("format", "byte")

    for key, value in source.items():
        if key in _DROPPED or key in out:
            continue
        if key in _ONE:
            if key == "items" and value is False:
                continue
            if key == "additionalProperties" and isinstance(value, bool):
                out[key] = value
            else:
                out[key] = convert_schema(value)
        elif key in _MANY:
            out[key] = [convert_schema(item) for item in value]
        elif key in _MAP:
            out[key] = {name: convert_schema(item) for name, item in value.items()}
        else:
            out[key] = value

    if out.get("type") == "array" and "items" not in out:
        out["items"] = {}
    if nullable:
        out["nullable"] = True
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    if "$ref" in out and len(out) > 1:
        ref = {"$ref": out.pop("$ref")}
        out["allOf"] = [ref, *out.get("allOf", [])]
    return out


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema == _NULL


def _convert_content(content: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for media, media_object in content.items():
        item = dict(media_object)
        if "schema" in item:
            item["schema"] = convert_schema(item["schema"])
        converted[media] = item
    return converted


def _convert_parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    out = dict(parameter)
    if "schema" in out:
        out["schema"] = convert_schema(out["schema"])
    if "content" in out:
        out["content"] = _convert_content(out["content"])
    return out


def _convert_response(response: dict[str, Any]) -> dict[str, Any]:
    out = dict(response)
    if "content" in out:
        out["content"] = _convert_content(out["content"])
    if "headers" in out:
        out["headers"] = {
            name: _convert_parameter(header) for name, header in out["headers"].items()
        }
    return out


def _convert_operation(operation: dict[str, Any]) -> dict[str, Any]:
    out = dict(operation)
    if "parameters" in out:
        out["parameters"] = [_convert_parameter(p) for p in out["parameters"]]
    if "requestBody" in out:
        body = dict(out["requestBody"])
        if "content" in body:
            body["content"] = _convert_content(body["content"])
        out["requestBody"] = body
    out["responses"] = {
        status: _convert_response(response) for status, response in out["responses"].items()
    }
    return out


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def convert_document(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.1 document as an equivalent (where possible) OpenAPI 3.0.3 document."""
    source = copy.deepcopy(document)
    out: dict[str, Any] = {"openapi": "3.0.3"}
    info = dict(source["info"])
    info.pop("summary", None)
    license_ = info.get("license")
    if is_dict(license_):
        license_.pop("identifier", None)
    out["info"] = info
    for key in ("servers", "tags", "security", "externalDocs"):
        if key in source:
            out[key] = source[key]
    paths: dict[str, Any] = {}
    for template, item in source.get("paths", {}).items():
        converted = dict(item)
        for method in _METHODS:
            if method in converted:
                converted[method] = _convert_operation(converted[method])
        if "parameters" in converted:
            converted["parameters"] = [_convert_parameter(p) for p in converted["parameters"]]
        paths[template] = converted
    out["paths"] = paths
    components = source.get("components")
    if components:
        comp = dict(components)
        if "schemas" in comp:
            comp["schemas"] = {name: convert_schema(s) for name, s in comp["schemas"].items()}
        if "responses" in comp:
            comp["responses"] = {n: _convert_response(r) for n, r in comp["responses"].items()}
        if "parameters" in comp:
            comp["parameters"] = {n: _convert_parameter(p) for n, p in comp["parameters"].items()}
        if "securitySchemes" in comp:
            comp["securitySchemes"] = {
                name: scheme
                for name, scheme in comp["securitySchemes"].items()
                if scheme.get("type") != "mutualTLS"  # 3.1 only
            }
        comp.pop("pathItems", None)
        out["components"] = comp
    return out
