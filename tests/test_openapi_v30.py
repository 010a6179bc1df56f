"""OpenAPI 3.1 JSON Schema rewritten for OpenAPI 3.0."""

from __future__ import annotations

from typing import Any

import pytest

from duoweb.openapi_v30 import convert_document, convert_schema
from tests.openapi_app import app as openapi_app

REF = {"$ref": "#/components/schemas/Item"}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": ["string", "null"]}, {"type": "string", "nullable": True}),
        (
            {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
            {"type": "integer", "minimum": 1, "nullable": True},
        ),
        ({"anyOf": [REF, {"type": "null"}]}, {"allOf": [REF], "nullable": True}),
        (
            {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            {"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
        ),
        ({"type": ["string", "integer"]}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        ({"type": "null"}, {"enum": [None], "nullable": True}),
        ({"const": "circle"}, {"enum": ["circle"]}),
        ({"type": "number", "examples": [1.5, 2]}, {"type": "number", "example": 1.5}),
        (
            {"type": "number", "exclusiveMinimum": 0},
            {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        ),
        (
            {"type": "number", "exclusiveMaximum": 10, "maximum": 5},
            {"type": "number", "maximum": 5},  # the inclusive bound is tighter
        ),
        (
            {"type": "number", "exclusiveMaximum": 10, "maximum": 20},
            {"type": "number", "maximum": 10, "exclusiveMaximum": True},
        ),
        (
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "items": False,
                "minItems": 2,
                "maxItems": 2,
            },
            {
                "type": "array",
                "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        ({**REF, "default": "red"}, {"allOf": [REF], "default": "red"}),
        (
            {"type": "string", "contentEncoding": "base64"},
            {"type": "string", "format": "byte"},
        ),
        (
            {"type": "object", "properties": {"a": {"type": ["integer", "null"]}}},
            {"type": "object", "properties": {"a": {"type": "integer", "nullable": True}}},
        ),
        (
            {"type": "object", "additionalProperties": {"const": 1}},
            {"type": "object", "additionalProperties": {"enum": [1]}},
        ),
        (
            {"enum": ["a", "b"], "type": ["string", "null"]},
            {"enum": ["a", "b", None], "type": "string", "nullable": True},
        ),
        (True, {}),
        (
            {"$defs": {"x": {}}, "patternProperties": {"^a": {}}, "type": "object"},
            {"type": "object"},
        ),
    ],
)
def test_convert_schema(schema: Any, expected: Any) -> None:
    assert convert_schema(schema) == expected


def test_convert_document_keeps_structure_and_version() -> None:
    document = openapi_app.openapi()
    converted = convert_document(document)
    assert converted["openapi"] == "3.0.3"
    assert converted["paths"].keys() == document["paths"].keys()
    assert converted["components"]["schemas"].keys() == document["components"]["schemas"].keys()
    assert document["openapi"] == "3.1.0"  # the 3.1 document is not changed in place
    listing = converted["paths"]["/products"]["get"]
    example = next(p for p in listing["parameters"] if p["name"] == "min_price")
    assert example["schema"]["example"] == 9.5
    assert "examples" not in example["schema"]


def test_the_3_0_document_has_no_3_1_keywords() -> None:
    forbidden = {"const", "prefixItems", "examples", "$defs", "contentEncoding"}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    for name, item in value.items():
                        walk(item, f"{where}/{name}")
                    continue
                assert key not in forbidden, where
                if key == "type":
                    assert isinstance(value, str), where
                    assert value != "null", where
                if key in ("exclusiveMinimum", "exclusiveMaximum"):
                    assert isinstance(value, bool), where
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}/{index}")

    walk(openapi_app.openapi("3.0")["components"], "components")
    for path, item in openapi_app.openapi("3.0")["paths"].items():
        walk(item, path)
