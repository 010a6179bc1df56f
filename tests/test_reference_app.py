"""The benchmarks' reference app behaves as specified, in both modes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks import app as declared
from benchmarks import app_handwritten as handwritten
from duoweb.testing import Mode, TestClient


@pytest.fixture(params=[declared, handwritten], ids=["declared", "handwritten"])
def client(mode: Mode, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with TestClient(request.param.app, mode) as test_client:
        yield test_client


def test_plaintext(client: TestClient) -> None:
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b"Hello, World!"


def test_json(client: TestClient) -> None:
    response = client.get("/json")
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"message":"Hello, World!"}'


@pytest.mark.parametrize("k", [0, 42, 99])
def test_numbered_routes(client: TestClient, k: int) -> None:
    assert client.get(f"/api/v1/r{k}/123").json() == {"route": k, "id": 123}
    assert client.get(f"/api/v1/r{k}/abc").status_code == 404
    assert client.get("/api/v1/r100/1").status_code == 404


def test_search(client: TestClient) -> None:
    assert client.get("/search?q=duo").json() == {"q": "duo", "limit": 10}
    assert client.get("/search?q=a+b&limit=100&x=1").json() == {"q": "a b", "limit": 100}
    for query in ("", "?limit=5", "?q=a&limit=0", "?q=a&limit=101", "?q=a&limit=ten"):
        response = client.get(f"/search{query}")
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"


def test_create_item(client: TestClient) -> None:
    response = client.post("/items", json={"name": "pen", "price": 1.5, "extra": True})
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body.pop("id"), int)
    assert body == {"name": "pen", "price": 1.5, "tags": []}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "price": 1}, "name"),
        ({"name": "x" * 65, "price": 1}, "name"),
        ({"name": "pen", "price": 0}, "price"),
        ({"name": "pen", "price": "5"}, "price"),
        ({"name": "pen", "price": True}, "price"),
        ({"name": "pen"}, "price"),
        ({"name": "pen", "price": 1, "tags": [1]}, "tags"),
    ],
)
def test_create_item_validation_names_the_field(
    client: TestClient, payload: dict[str, object], field: str
) -> None:
    response = client.post("/items", json=payload)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(error["loc"][:2] == ["body", field] for error in errors), errors


def test_non_finite_price_is_refused(client: TestClient) -> None:
    response = client.post(
        "/items",
        content=b'{"name":"pen","price":1e999}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "price"]


def test_create_item_framing_errors(client: TestClient) -> None:
    assert (
        client.post(
            "/items", content=b"{bad", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/items", content=b"[]", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert (
        client.post("/items", content=b"{}", headers={"content-type": "text/plain"}).status_code
        == 415
    )
    assert client.post("/items", content=b"{}").status_code == 415
    charset = client.post(
        "/items",
        content=b'{"name":"a","price":2}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert charset.status_code == 201
    big = client.post(
        "/items",
        content=b" " * (1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413


def test_method_errors(client: TestClient) -> None:
    assert client.get("/items").status_code == 405
    assert client.post("/json").status_code == 405
