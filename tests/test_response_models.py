"""The return annotation is the response model: results are converted to it and encoded."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest
from pydantic import BaseModel

from duoweb import App
from tests.conftest import MakeClient


class PublicUser(BaseModel):
    id: int
    name: str


class PublicUserStruct(msgspec.Struct):
    id: int
    name: str


@dataclasses.dataclass
class StoredUser:
    id: int
    name: str
    password_hash: str


def build_app() -> App:
    app = App()
    stored = StoredUser(1, "ada", "secret-hash")

    @app.get("/pydantic")
    def pyd() -> PublicUser:
        return PublicUser(id=1, name="ada")

    @app.get("/pydantic-filtered")
    def pyd_filtered() -> PublicUser:
        return stored  # type: ignore[return-value]  # converted by attribute, extra dropped

    @app.get("/struct-filtered")
    async def struct_filtered() -> PublicUserStruct:
        return stored  # type: ignore[return-value]

    @app.get("/list")
    def listing() -> list[PublicUserStruct]:
        return [stored, {"id": 2, "name": "bob", "password_hash": "x"}]  # type: ignore[list-item]

    @app.get("/wrong")
    def wrong() -> PublicUserStruct:
        return {"id": "not an int"}  # type: ignore[return-value]

    @app.get("/plain")
    def plain() -> dict[str, Any]:
        return {"anything": [1, "two"]}

    @app.post("/created", status_code=201)
    def created() -> PublicUser:
        return PublicUser(id=3, name="cy")

    return app


@pytest.mark.parametrize("path", ["/pydantic", "/pydantic-filtered", "/struct-filtered"])
def test_model_responses_drop_undeclared_fields(make_client: MakeClient, path: str) -> None:
    with make_client(build_app()) as client:
        response = client.get(path)
        assert response.status_code == 200
        assert response.json() == {"id": 1, "name": "ada"}


def test_list_of_models(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/list").json() == [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}]


def test_result_that_breaks_the_declared_type_is_500(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        response = client.get("/wrong")
        assert response.status_code == 500
        assert "not an int" not in response.text


def test_plain_containers_and_status(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/plain").json() == {"anything": [1, "two"]}
        created = client.post("/created")
        assert (created.status_code, created.json()) == (201, {"id": 3, "name": "cy"})
