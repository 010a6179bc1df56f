"""The OpenAPI document: what it says about parameters, bodies, responses and names."""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter
from typing import Annotated, Any

import msgspec
import pydantic
import pytest
from pydantic import BaseModel

from benchmarks.app import app as reference_app
from duoweb import App, Query, RouteDefinitionError
from duoweb.openapi import build_document
from duoweb.openapi_schemas import REF_PREFIX
from tests import openapi_app

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def param(operation: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    found = [p for p in operation["parameters"] if p["name"] == name and p["in"] == where]
    assert len(found) == 1, operation["parameters"]
    parameter: dict[str, Any] = found[0]
    return parameter


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref (components) once."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    assert isinstance(target, dict)
    return target


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in all_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in all_refs(item)]
    return []


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi_app.app.openapi()


@pytest.fixture(scope="module")
def ref_doc() -> dict[str, Any]:
    return reference_app.openapi()


# --- the document validates ------------------------------------------------------------------


@pytest.mark.parametrize("target", [reference_app, openapi_app.app], ids=["reference", "openapi"])
@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_document_is_valid_openapi(target: App, version: str) -> None:
    validation = pytest.importorskip("openapi_spec_validator.validation")
    validator = (
        validation.OpenAPIV31SpecValidator
        if version == "3.1"
        else validation.OpenAPIV30SpecValidator
    )
    document = target.openapi(version)
    errors = [str(error)[:500] for error in validator(document).iter_errors()]
    assert errors == []
    assert document["openapi"] == ("3.1.0" if version == "3.1" else "3.0.3")


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_every_ref_resolves(doc: dict[str, Any], version: str) -> None:
    document = openapi_app.app.openapi(version)
    for ref in all_refs(document):
        assert ref.startswith("#/components/"), ref
        resolve(document, {"$ref": ref})


def test_document_is_built_once_and_rebuilt_after_a_new_route() -> None:
    app = App()

    @app.get("/a")
    def a() -> int:
        return 1

    first = app.openapi()
    assert app.openapi() is first

    @app.get("/b")
    def b() -> int:
        return 2

    assert set(app.openapi()["paths"]) == {"/a", "/b"}


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"3\.1, 3\.0"):
        build_document(App(), "2.0")


# --- info, tags, operation ids -----------------------------------------------------------------


def test_info_servers_and_security_schemes(doc: dict[str, Any]) -> None:
    assert doc["info"] == {
        "title": "Inventory",
        "version": "2.1.0",
        "description": "Every kind of parameter and model duoweb documents.",
    }
    assert doc["servers"] == [{"url": "/", "description": "this server"}]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert doc["paths"]["/products"]["post"]["security"] == [{"apiKey": []}]
    assert doc["paths"]["/legacy"]["get"]["security"] == [{"bearer": []}, {}]
    assert "security" not in doc["paths"]["/products"]["get"]


def test_operation_ids_are_unique_and_stable(doc: dict[str, Any], ref_doc: dict[str, Any]) -> None:
    for document in (doc, ref_doc):
        ids = [operation["operationId"] for _, _, operation in operations(document)]
        assert len(ids) == len(set(ids))
    by_route = {(p, m): o["operationId"] for p, m, o in operations(doc)}
    assert by_route["/products/{product_id}/labels/{count}", "put"] == "putLabels"
    assert by_route["/status", "get"] == "status_get"
    assert by_route["/status", "put"] == "status_put"
    assert by_route["/products", "get"] == "list_products"
    assert openapi_app.app.openapi() is doc  # built once
    assert build_document(openapi_app.app) == doc  # and the same when built again


def test_default_operation_ids_never_collide() -> None:
    app = App(openapi_url=None, docs_url=None)

    @app.get("/items", name="items")
    def get_items() -> int:
        return 1

    @app.post("/items", name="items")
    def post_items() -> int:
        return 1

    @app.get("/other", operation_id="items_2")
    def other() -> int:
        return 1

    ids = [o["operationId"] for _, _, o in operations(app.openapi())]
    assert ids == ["items", "items_3", "items_2"]


def test_two_routes_with_one_explicit_operation_id_is_an_error() -> None:
    app = App(openapi_url=None, docs_url=None)

    @app.get("/a", operation_id="same")
    def a() -> int:
        return 1

    # A registration error, naming both handlers.
    with pytest.raises(RouteDefinitionError, match=r"'same'.*\.a at '/a'.*\.b at '/b'"):

        @app.get("/b", operation_id="same")
        def b() -> int:
            return 1


def test_summaries_descriptions_tags_and_deprecation(doc: dict[str, Any]) -> None:
    listing = doc["paths"]["/products"]["get"]
    assert listing["summary"] == "List products."
    assert listing["description"] == "Filters combine; ``tag`` may be repeated."
    assert listing["tags"] == ["products"]
    assert doc["paths"]["/assemblies"]["post"]["summary"] == "Check an assembly"
    assert doc["paths"]["/legacy"]["get"]["deprecated"] is True
    assert "deprecated" not in listing
    assert [tag["name"] for tag in doc["tags"]] == [
        "products",
        "assemblies",
        "labels",
        "files",
        "legacy",
    ]


def test_hidden_and_own_routes_are_not_documented(doc: dict[str, Any]) -> None:
    assert "/hidden" not in doc["paths"]
    assert not any(path.startswith(("/docs", "/openapi")) for path in doc["paths"])


# --- parameters ----------------------------------------------------------------------------


def test_reference_app_parameters(ref_doc: dict[str, Any]) -> None:
    search = ref_doc["paths"]["/search"]["get"]
    assert param(search, "q", "query") == {
        "name": "q",
        "in": "query",
        "required": True,
        "schema": {"type": "string"},
    }
    limit = param(search, "limit", "query")
    assert limit["required"] is False
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
    item = ref_doc["paths"]["/api/v1/r7/{id}"]["get"]
    assert param(item, "id", "path") == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {
            "type": "integer",
            "format": "int64",
            "minimum": -(2**63),
            "maximum": 2**63 - 1,
        },
    }


def test_path_parameters_of_every_kind(doc: dict[str, Any]) -> None:
    measure = doc["paths"]["/measure/{value}/{ratio}"]["get"]
    assert param(measure, "value", "path")["schema"]["type"] == "integer"
    assert param(measure, "ratio", "path")["schema"] == {"type": "number"}
    product = doc["paths"]["/products/{product_id}"]["get"]
    assert param(product, "product_id", "path")["schema"] == {"type": "string", "format": "uuid"}
    files = doc["paths"]["/files/{name}/{rest}"]["get"]  # {rest:path} is {rest} in OpenAPI
    assert param(files, "name", "path")["schema"] == {
        "type": "string",
        "minLength": 1,
        "pattern": "^[^/]+$",
    }
    assert param(files, "rest", "path")["schema"] == {"type": "string"}


def test_query_parameters_with_constraints(doc: dict[str, Any]) -> None:
    listing = doc["paths"]["/products"]["get"]
    q = param(listing, "q", "query")
    assert q["description"] == "search text"
    assert q["required"] is False
    assert q["schema"] == {"type": "string", "maxLength": 20}
    assert param(listing, "color", "query")["schema"] == {"$ref": REF_PREFIX + "Color"}
    assert param(listing, "kind", "query")["schema"] == {"enum": ["tool", "toy"]}
    tag = param(listing, "tag", "query")
    assert (tag["style"], tag["explode"]) == ("form", True)
    assert tag["schema"] == {
        "type": "array",
        "items": {"type": "string"},
        "maxItems": 3,
        "default": [],
    }
    min_price = param(listing, "min_price", "query")["schema"]
    assert min_price == {
        "type": "number",
        "minimum": 0,
        "maximum": 10_000,
        "default": 0.0,
        "examples": [9.5],
    }
    assert param(listing, "in_stock", "query")["schema"] == {"type": "boolean", "default": False}
    assert param(listing, "since", "query")["schema"] == {"type": "string", "format": "date-time"}
    legacy = param(listing, "legacy", "query")
    assert legacy["deprecated"] is True
    measure = doc["paths"]["/measure/{value}/{ratio}"]["get"]
    assert param(measure, "unit", "query")["schema"]["pattern"] == "^[a-z]{1,3}$"
    assert param(measure, "precision", "query")["schema"]["multipleOf"] == 2


def test_dependency_parameters_belong_to_the_operation(doc: dict[str, Any]) -> None:
    listing = doc["paths"]["/products"]["get"]
    assert param(listing, "offset", "query")["schema"]["maximum"] == 1000
    assert param(listing, "limit", "query")["schema"]["minimum"] == 1
    create = doc["paths"]["/products"]["post"]
    key = param(create, "x-api-key", "header")  # from auth()
    assert key["description"] == "the caller's key"
    tenant = param(create, "x-tenant", "header")  # from tenant(), a dependency of auth()
    assert tenant["schema"] == {
        "type": "string",
        "maxLength": 20,
        "minLength": 1,
        "default": "public",
    }
    parts = doc["paths"]["/parts"]["get"]
    assert [p["name"] for p in parts["parameters"]] == ["offset", "limit"]


def test_headers_and_cookies(doc: dict[str, Any]) -> None:
    files = doc["paths"]["/files/{name}/{rest}"]["get"]
    assert param(files, "x-request-id", "header")["schema"] == {"type": "string", "format": "uuid"}
    tags = param(files, "x-tags", "header")
    assert tags["style"] == "simple"
    assert tags["schema"]["type"] == "array"
    session = param(files, "session", "cookie")
    assert session["required"] is False
    assert session["schema"] == {"type": "string", "maxLength": 64, "minLength": 4}
    theme = param(files, "theme", "cookie")
    assert theme["schema"] == {"enum": ["dark", "light"], "default": "light"}


# --- bodies and responses ------------------------------------------------------------------


def test_reference_app_bodies_and_responses(ref_doc: dict[str, Any]) -> None:
    create = ref_doc["paths"]["/items"]["post"]
    assert create["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF_PREFIX + "NewItem"}}},
    }
    created = create["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {"$ref": REF_PREFIX + "Item"}
    assert set(create["responses"]) == {"201", "400", "413", "415", "422"}
    new_item = ref_doc["components"]["schemas"]["NewItem"]
    assert new_item["properties"]["name"] == {"type": "string", "minLength": 1, "maxLength": 64}
    assert new_item["properties"]["price"] == {"type": "number", "exclusiveMinimum": 0}
    assert new_item["required"] == ["name", "price"]
    plaintext = ref_doc["paths"]["/plaintext"]["get"]["responses"]
    assert plaintext == {
        "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
    search = ref_doc["paths"]["/search"]["get"]["responses"]
    assert set(search) == {"200", "400", "422"}
    assert set(ref_doc["paths"]["/api/v1/r0/{id}"]["get"]["responses"]) == {"200", "404"}


def test_validation_error_shape(ref_doc: dict[str, Any]) -> None:
    response = resolve(ref_doc, ref_doc["paths"]["/search"]["get"]["responses"]["422"])
    schema = response["content"]["application/problem+json"]["schema"]
    problem = resolve(ref_doc, schema)
    assert problem["required"] == ["type", "title", "status", "errors"]
    errors = problem["properties"]["errors"]
    assert errors["type"] == "array"
    item = resolve(ref_doc, errors["items"])
    assert set(item["properties"]) == {"loc", "msg", "type"}
    assert item["properties"]["loc"]["items"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }
    problem_ref = resolve(ref_doc, ref_doc["components"]["responses"]["BadRequest"])
    plain = resolve(ref_doc, problem_ref["content"]["application/problem+json"]["schema"])
    assert plain["required"] == ["type", "title", "status"]


def test_custom_validation_error_is_documented(doc: dict[str, Any]) -> None:
    response = resolve(doc, doc["paths"]["/assemblies"]["post"]["responses"]["422"])
    assert response["content"] == {
        "application/json": {"schema": {"$ref": REF_PREFIX + "InvalidInput"}}
    }
    invalid = doc["components"]["schemas"]["InvalidInput"]
    assert set(invalid["properties"]) == {"message", "fields"}


def test_request_bodies_of_every_model_kind(doc: dict[str, Any]) -> None:
    def body(path: str, method: str = "post") -> dict[str, Any]:
        request = doc["paths"][path][method]["requestBody"]
        schema: dict[str, Any] = request["content"]["application/json"]["schema"]
        return schema

    assert body("/products") == {"$ref": REF_PREFIX + "Product"}  # pydantic
    assert body("/assemblies") == {"$ref": REF_PREFIX + "Assembly"}  # msgspec
    assert body("/addresses/check") == {"$ref": REF_PREFIX + "Address"}  # TypedDict
    labels = body("/products/{product_id}/labels/{count}", "put")  # list of dataclasses
    assert labels == {"type": "array", "items": {"$ref": REF_PREFIX + "Label"}}
    shapes = body("/shapes/area")  # a tagged union of Structs
    assert shapes["discriminator"]["propertyName"] == "type"
    assert {s["$ref"] for s in shapes["anyOf"]} == {REF_PREFIX + "Circle", REF_PREFIX + "Square"}
    assert doc["paths"]["/notes"]["post"]["requestBody"]["required"] is False
    schemas = doc["components"]["schemas"]
    product = schemas["Product"]
    assert product["properties"]["name"]["maxLength"] == 40
    assert product["properties"]["color"]["$ref"] == REF_PREFIX + "Color"
    part = schemas["Part"]
    assert part["properties"]["number"]["pattern"] == "^[A-Z]{2}-[0-9]{3}$"
    assert part["properties"]["quantity"]["maximum"] == 99
    assert schemas["Assembly"]["properties"]["parts"]["maxItems"] == 5
    assert schemas["Label"]["required"] == ["text"]
    assert sorted(schemas["Address"]["required"]) == ["city", "street", "zip"]
    stored = schemas["StoredProduct"]["properties"]
    assert stored["id"] == {"format": "uuid", "title": "Id", "type": "string"}
    assert stored["created"]["format"] == "date-time"
    assert schemas["Size"]["enum"] == [1, 2]


def test_status_codes_from_the_return_annotation(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    assert "201" in paths["/products"]["post"]["responses"]
    assert "200" not in paths["/products"]["post"]["responses"]
    note = paths["/notes"]["post"]["responses"]  # -> None
    assert note["204"] == {"description": "No Content"}
    assert "200" not in note
    deleted = paths["/products/{product_id}"]["delete"]["responses"]
    assert set(deleted) == {"204", "404"}
    fetched = paths["/products/{product_id}"]["get"]["responses"]  # -> StoredProduct | None
    assert {"200", "204"} <= set(fetched)
    assert fetched["200"]["content"]["application/json"]["schema"] == {
        "$ref": REF_PREFIX + "StoredProduct"
    }
    area = paths["/shapes/area"]["post"]["responses"]["200"]
    assert area["content"]["application/json"]["schema"] == {"type": "number"}
    files = paths["/files/{name}/{rest}"]["get"]["responses"]["200"]
    assert files["content"] == {"text/plain": {"schema": {"type": "string"}}}


def test_documented_extra_responses(doc: dict[str, Any]) -> None:
    fetched = doc["paths"]["/products/{product_id}"]["get"]["responses"]
    assert fetched["409"]["content"]["application/json"]["schema"] == {
        "$ref": REF_PREFIX + "Conflict"
    }
    # The route's own 404 text joins the framework's 404 (no such path / bad parameter).
    assert fetched["404"]["description"].startswith("No such product")
    assert "application/problem+json" in fetched["404"]["content"]
    created = doc["paths"]["/products"]["post"]["responses"]
    assert created["401"]["description"] == "No API key"


def test_framework_errors_only_where_they_can_happen(doc: dict[str, Any]) -> None:
    status = doc["paths"]["/status"]["get"]["responses"]
    assert set(status) == {"200"}  # no parameters, no body: nothing can fail
    files = doc["paths"]["/files/{name}/{rest}"]["get"]["responses"]
    assert set(files) == {"200", "404", "422"}  # no query, no body: no 400/413/415
    assert set(doc["paths"]["/parts"]["get"]["responses"]) == {"200", "400", "422"}


def test_generic_models_have_readable_names(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert "Page_Part_" in schemas  # msgspec's Page[Part]
    assert "Envelope_Dimensions_" in schemas  # pydantic's Envelope[Dimensions]


# --- component names -----------------------------------------------------------------------


def test_same_named_classes_never_collide(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert "Item" not in schemas
    warehouse = schemas["tests.warehouse.Item"]
    shop = schemas["tests.shop.Item"]
    assert set(warehouse["properties"]) == {"sku", "bin"}
    assert set(shop["properties"]) == {"sku", "price"}
    assert set(schemas["tests.catalog.Item"]["properties"]) == {"title"}
    assert set(schemas["tests.ledger.Item"]["properties"]) == {"amount"}
    stock = schemas["Stock"]["properties"]
    assert stock["warehouse"] == {"$ref": REF_PREFIX + "tests.warehouse.Item"}
    assert stock["shop"] == {"$ref": REF_PREFIX + "tests.shop.Item"}
    books = schemas["Books"]["properties"]
    assert books["catalog"] == {"$ref": REF_PREFIX + "tests.catalog.Item"}


def test_msgspec_and_pydantic_classes_of_one_name_get_qualified_names() -> None:
    app = App(openapi_url=None, docs_url=None)
    StructItem = msgspec.defstruct("Item", [("a", int)], module="shop.models")
    ModelItem = pydantic.create_model("Item", __module__="catalog.models", b=(str, ...))

    @app.post("/struct")
    def struct(item: StructItem) -> StructItem:  # type: ignore[valid-type]
        return item

    @app.post("/model")
    def model(item: ModelItem) -> ModelItem:  # type: ignore[valid-type]
        return item

    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert "Item" not in schemas
    assert set(schemas["shop.models.Item"]["properties"]) == {"a"}
    assert set(schemas["catalog.models.Item"]["properties"]) == {"b"}
    body = document["paths"]["/model"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": REF_PREFIX + "catalog.models.Item"}


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


class Paint(BaseModel):
    shade: Shade


class Brush(msgspec.Struct):
    shade: Shade


def test_a_class_both_generators_see_is_one_component() -> None:
    app = App(openapi_url=None, docs_url=None)

    @app.post("/paint")
    def paint(body: Paint) -> Brush:
        return Brush(body.shade)

    schemas = app.openapi()["components"]["schemas"]
    assert [name for name in schemas if "Shade" in name] == ["Shade"]
    assert schemas["Paint"]["properties"]["shade"] == {"$ref": REF_PREFIX + "Shade"}
    assert schemas["Brush"]["properties"]["shade"] == {"$ref": REF_PREFIX + "Shade"}


def test_user_classes_named_like_duoweb_components_are_renamed() -> None:
    app = App(openapi_url=None, docs_url=None)

    @dataclasses.dataclass
    class Problem:
        mine: int

    @app.post("/problem")
    def problem(body: Problem) -> int:
        return body.mine

    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]) == {"type", "title", "status", "detail"}
    user = f"{__name__}.test_user_classes_named_like_duoweb_components_are_renamed._locals_.Problem"
    assert set(schemas[user]["properties"]) == {"mine"}
    body = document["paths"]["/problem"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": REF_PREFIX + user}


def test_component_names_are_valid_and_stable(doc: dict[str, Any]) -> None:
    names = list(doc["components"]["schemas"])
    assert names == sorted(names)
    for name in names:
        assert all(c.isalnum() or c in "._-" for c in name), name
    counted = Counter(name.rsplit(".", 1)[-1] for name in names)
    assert counted["Item"] == 4


# --- odd cases -----------------------------------------------------------------------------


def test_unsupported_types_are_documented_as_anything() -> None:
    app = App(openapi_url=None, docs_url=None)

    class Opaque:
        pass

    @app.get("/opaque")
    def opaque(limit: Annotated[int, Query(ge=0)] = 0) -> Opaque:
        return Opaque()

    response = app.openapi()["paths"]["/opaque"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {"title": "Opaque"}


def test_untyped_and_any_returns_are_json() -> None:
    app = App(openapi_url=None, docs_url=None)

    @app.get("/untyped")
    def untyped():  # type: ignore[no-untyped-def]
        return {"a": 1}

    @app.get("/any")
    def anything() -> Any:
        return 1

    paths = app.openapi()["paths"]
    for path in ("/untyped", "/any"):
        assert paths[path]["get"]["responses"]["200"]["content"] == {
            "application/json": {"schema": {}}
        }
