"""JSON bodies into pydantic models, Structs, dataclasses and TypedDicts; one error shape."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest
from pydantic import BaseModel, Field

from duoweb import App, Body
from tests.conftest import MakeClient


class PydItem(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    price: Annotated[float, Field(gt=0)]
    tags: list[str] = []


class StructItem(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


@dataclasses.dataclass
class DataItem:
    name: str
    price: float
    tags: list[str] = dataclasses.field(default_factory=list)


class DictItem(TypedDict):
    name: str
    price: float


def build_app() -> App:
    app = App()

    @app.post("/pydantic", status_code=201)
    def pyd(item: PydItem) -> dict[str, Any]:
        return {"kind": type(item).__name__, **item.model_dump()}

    @app.post("/struct", status_code=201)
    async def struct(item: StructItem) -> dict[str, Any]:
        return {"kind": type(item).__name__, **msgspec.structs.asdict(item)}

    @app.post("/dataclass")
    def dataclass(item: DataItem) -> dict[str, Any]:
        return {"kind": type(item).__name__, **dataclasses.asdict(item)}

    @app.post("/typeddict")
    def typeddict(item: DictItem) -> dict[str, Any]:
        return {"kind": type(item).__name__, **item}

    @app.post("/list")
    def many(items: list[StructItem]) -> int:
        return len(items)

    @app.post("/pydantic-list")
    def pyd_many(items: list[PydItem]) -> int:
        return len(items)

    @app.post("/optional")
    def optional(item: StructItem | None = None) -> str:
        return "none" if item is None else item.name

    @app.post("/raw")
    def raw(payload: Annotated[dict[str, int], Body()]) -> int:
        return sum(payload.values())

    return app


KINDS = {
    "/pydantic": "PydItem",
    "/struct": "StructItem",
    "/dataclass": "DataItem",
    "/typeddict": "dict",
}


@pytest.mark.parametrize("path", list(KINDS))
def test_valid_body_is_decoded_into_the_annotated_type(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        response = client.post(path, json={"name": "pen", "price": 2.5, "ignored": 1})
        assert response.status_code in (200, 201)
        body = response.json()
        assert body["kind"] == KINDS[path]
        assert (body["name"], body["price"]) == ("pen", 2.5)


@pytest.mark.parametrize("path", list(KINDS))
@pytest.mark.parametrize("price", ["5", True, None, [1]])
def test_bodies_are_strict(make_client: MakeClient, path: str, price: object) -> None:
    with make_client(build_app()) as client:
        response = client.post(path, json={"name": "pen", "price": price})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert errors[0]["loc"][:2] == ["body", "price"], errors


@pytest.mark.parametrize("path", ["/pydantic", "/struct"])
def test_constraint_violation_names_the_field(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        for payload, field in (
            ({"name": "", "price": 1}, "name"),
            ({"name": "a", "price": 0}, "price"),
        ):
            errors = client.post(path, json=payload).json()["errors"]
            assert errors[0]["loc"] == ["body", field]


@pytest.mark.parametrize("path", ["/pydantic", "/struct", "/dataclass"])
def test_missing_field_and_nested_locations(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        missing = client.post(path, json={"name": "pen"}).json()["errors"]
        assert missing[0]["loc"] == ["body", "price"]
        nested = client.post(path, json={"name": "pen", "price": 1, "tags": ["ok", 7]}).json()
        assert nested["errors"][0]["loc"] == ["body", "tags", 1]


@pytest.mark.parametrize("path", ["/list", "/pydantic-list"])
def test_lists_of_models(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        item = {"name": "a", "price": 1}
        assert client.post(path, json=[item, item]).json() == 2
        errors = client.post(path, json=[item, {"name": "b"}]).json()["errors"]
        assert errors[0]["loc"] == ["body", 1, "price"]


@pytest.mark.parametrize("path", list(KINDS))
def test_framing_errors(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        malformed = client.post(
            path, content=b'{"name":', headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400
        wrong_type = client.post(path, content=b"{}", headers={"content-type": "text/plain"})
        assert wrong_type.status_code == 415
        no_type = client.post(path, content=b'{"name":"a","price":1}')
        assert no_type.status_code == 415
        with_charset = client.post(
            path,
            content=b'{"name":"a","price":1}',
            headers={"content-type": "Application/JSON; charset=UTF-8"},
        )
        assert with_charset.status_code in (200, 201)
        not_an_object = client.post(path, json=[1])
        assert not_an_object.status_code == 422
        assert not_an_object.json()["errors"][0]["loc"] == ["body"]


def test_optional_body_and_explicit_body_marker(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.post("/optional").json() == "none"
        assert client.post("/optional", json={"name": "x", "price": 1}).json() == "x"
        assert client.post("/raw", json={"a": 1, "b": 2}).json() == 3
        assert client.post("/raw", json={"a": "1"}).status_code == 422


def test_customized_validation_error_response(make_client: MakeClient) -> None:
    app = build_app()

    class Problem(msgspec.Struct):
        message: str
        fields: list[str]

    @app.validation_error_renderer(status=400)
    def render(errors: list[Any]) -> Problem:
        return Problem("invalid input", [".".join(map(str, e.loc)) for e in errors])

    with make_client(app) as client:
        response = client.post("/struct", json={"name": "", "price": 1})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"message": "invalid input", "fields": ["body.name"]}


# Issue 20, item 12: every error, malformed JSON first, and the +json media types.
@pytest.mark.parametrize("path", list(KINDS))
def test_every_field_error_is_reported(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        response = client.post(path, json={"name": 7, "price": "x"})
        assert response.status_code == 422
        locs = [error["loc"] for error in response.json()["errors"]]
        assert locs == [["body", "name"], ["body", "price"]]
        missing = client.post(path, json={}).json()["errors"]
        assert [(e["loc"], e["type"]) for e in missing][:2] == [
            (["body", "name"], "missing"),
            (["body", "price"], "missing"),
        ]


class Line(msgspec.Struct, forbid_unknown_fields=True):
    sku: Annotated[str, msgspec.Meta(min_length=1)]
    count: Annotated[int, msgspec.Meta(ge=1)]


class Order(msgspec.Struct, rename="camel"):
    order_id: int
    lines: list[Line]
    note: str = ""


@dataclasses.dataclass
class Wrapper:
    order: Order
    priority: int = 0


@pytest.mark.parametrize("handler_kind", ["def", "async def"])
def test_every_error_in_nested_models_and_lists(make_client: MakeClient, handler_kind: str) -> None:
    app = App()
    if handler_kind == "def":

        @app.post("/orders")
        def orders(wrapper: Wrapper) -> int:
            return wrapper.order.order_id

    else:

        @app.post("/orders")
        async def orders_async(wrapper: Wrapper) -> int:
            return wrapper.order.order_id

    payload = {
        "order": {
            "orderId": "one",
            "lines": [{"sku": "", "count": 1}, {"sku": "a", "count": 0, "extra": 1}],
        },
        "priority": 1.5,
    }
    with make_client(app) as client:
        valid = {"order": {"orderId": 1, "lines": [{"sku": "a", "count": 1}]}}
        assert client.post("/orders", json=valid).json() == 1
        errors = client.post("/orders", json=payload).json()["errors"]
    assert [e["loc"] for e in errors] == [
        ["body", "order", "orderId"],
        ["body", "order", "lines", 0, "sku"],
        ["body", "order", "lines", 1, "count"],
        ["body", "order", "lines", 1],
        ["body", "priority"],
    ]
    assert errors[3]["msg"] == "Object contains unknown field 'extra'"


@pytest.mark.parametrize("path", list(KINDS))
def test_malformed_json_wins_over_validation(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        for body in (b'{"name":"w","price":0x10}', b'{"name":5,"price":1', b'{"name":5} x'):
            response = client.post(path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (body, response.text)
            assert response.json()["detail"] == "Malformed JSON body."


@pytest.mark.parametrize("path", list(KINDS))
@pytest.mark.parametrize(
    "media_type",
    ["application/merge-patch+json", "application/vnd.api+json", "Application/Problem+JSON; x=1"],
)
def test_structured_json_media_types_are_json(
    make_client: MakeClient, path: str, media_type: str
) -> None:
    with make_client(build_app()) as client:
        response = client.post(
            path, content=b'{"name":"a","price":1}', headers={"content-type": media_type}
        )
        assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("media_type", ["application/+json", "text/x+json", "application/jsonx"])
def test_other_media_types_are_still_415(make_client: MakeClient, media_type: str) -> None:
    with make_client(build_app()) as client:
        response = client.post(
            "/struct", content=b'{"name":"a","price":1}', headers={"content-type": media_type}
        )
        assert response.status_code == 415


# Issue 20, item 9: echoed input is cut short and quoted, never repeated whole.
class Color(msgspec.Struct, forbid_unknown_fields=True):
    shade: Literal["red", "blue"]


def test_validation_messages_cut_and_quote_what_they_echo(make_client: MakeClient) -> None:
    import enum

    class Size(enum.Enum):
        S = "s"

    app = App()

    @app.post("/color")
    def color(c: Color) -> str:
        return c.shade

    @app.get("/size")
    def size(s: Size) -> str:
        return s.value

    script = "<script>alert(1)</script>" + "x" * 200
    with make_client(app) as client:
        enum_body = client.post("/color", json={"shade": script}).json()
        unknown = client.post("/color", json={"shade": "red", script: 1}).json()
        query = client.get("/size", params={"s": script}).json()
    for problem in (enum_body, unknown, query):
        message = problem["errors"][0]["msg"]
        assert script not in message
        assert "'<script>alert(1)</script>xxxxxxxxxxxxxxx...'" in message, message
