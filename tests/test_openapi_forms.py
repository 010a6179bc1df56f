"""Form routes in the OpenAPI document: multipart or urlencoded bodies, binary files."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from duoweb import App, Form, FormData, UploadFile


class Signup(msgspec.Struct):
    user: str
    age: int


def forms_app() -> App:
    app = App(title="Forms")

    @app.post("/profile")
    def profile(
        name: Annotated[str, Form(min_length=1, description="Shown to others")],
        avatar: UploadFile,
        tags: Annotated[list[str], Form()] = [],  # noqa: B006
        extras: list[UploadFile] | None = None,
    ) -> dict[str, str]:
        return {"name": name}

    @app.post("/login")
    def login(username: Annotated[str, Form()], remember: Annotated[bool, Form()] = False) -> str:
        return username

    @app.post("/signup")
    def signup(data: Annotated[Signup, Form()]) -> str:
        return data.user

    @app.post("/raw")
    def raw(form: FormData) -> int:
        return len(form)

    return app


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_form_document_is_valid(version: str) -> None:
    validation = pytest.importorskip("openapi_spec_validator.validation")
    validator = (
        validation.OpenAPIV31SpecValidator
        if version == "3.1"
        else validation.OpenAPIV30SpecValidator
    )
    document = forms_app().openapi(version)
    assert [str(error)[:500] for error in validator(document).iter_errors()] == []


def body_of(document: dict[str, Any], path: str) -> dict[str, Any]:
    body: dict[str, Any] = document["paths"][path]["post"]["requestBody"]
    return body


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_files_make_a_multipart_body_with_binary_strings(version: str) -> None:
    document = forms_app().openapi(version)
    body = body_of(document, "/profile")
    assert body["required"] is True
    assert list(body["content"]) == ["multipart/form-data"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["name", "avatar"]
    properties = schema["properties"]
    assert properties["avatar"] == {"type": "string", "format": "binary"}
    assert properties["extras"] == {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
    }
    assert properties["name"]["minLength"] == 1
    assert properties["name"]["description"] == "Shown to others"
    assert properties["tags"]["type"] == "array"
    parameters = document["paths"]["/profile"]["post"].get("parameters", [])
    assert parameters == []  # form fields are not query parameters
    responses = document["paths"]["/profile"]["post"]["responses"]
    assert {"400", "413", "415", "422"} <= set(responses)


def test_text_fields_and_models_accept_urlencoded_and_multipart() -> None:
    document = forms_app().openapi()
    login = body_of(document, "/login")
    assert list(login["content"]) == ["application/x-www-form-urlencoded", "multipart/form-data"]
    schema = login["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["required"] == ["username"]
    assert schema["properties"]["remember"] == {"type": "boolean", "default": False}
    signup = body_of(document, "/signup")
    model = signup["content"]["application/x-www-form-urlencoded"]["schema"]
    assert model == {"$ref": "#/components/schemas/Signup"}
    assert signup["required"] is True
    raw = body_of(document, "/raw")
    assert list(raw["content"]) == ["multipart/form-data"]
