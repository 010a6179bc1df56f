"""Security schemes declare themselves in OpenAPI, found anywhere in a route's dependencies."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from duoweb import App, Depends
from duoweb.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityScopes,
    require_scope,
)

oauth2 = OAuth2PasswordBearer(
    token_url="/token",
    scopes={"items:read": "Read items", "admin": "Administer"},
    description="Log in with a username and password.",
)
bearer = HTTPBearer(bearer_format="JWT")
basic = HTTPBasic(realm="ops")
header_key = APIKeyHeader(name="X-API-Key")
other_header_key = APIKeyHeader(name="X-Other-Key")
query_key = APIKeyQuery(name="api_key", auto_error=False)
cookie_key = APIKeyCookie(name="session", scheme_name="Session")


def granted(token: Annotated[str, Depends(oauth2)]) -> SecurityScopes:
    return SecurityScopes(token)


async def current_user(token: Annotated[str, Depends(bearer)]) -> str:
    return token


def build_app() -> App:
    app = App(security_schemes={"manual": {"type": "http", "scheme": "digest"}})

    @app.get("/open")
    def open_route() -> str:
        return "open"

    @app.get("/bearer")
    def bearer_route(token: Annotated[str, Depends(bearer)]) -> str:
        return token

    @app.get("/nested")
    async def nested(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    @app.get("/both")
    def both(
        user: Annotated[str, Depends(current_user)],
        key: Annotated[str, Depends(header_key)],
    ) -> str:
        return user + key

    @app.get("/optional")
    def optional(key: Annotated[str | None, Depends(query_key)]) -> str:
        return key or ""

    @app.get("/mixed")
    def mixed(
        creds: Annotated[HTTPBasicCredentials, Depends(basic)],
        key: Annotated[str | None, Depends(query_key)],
    ) -> str:
        return creds.username

    @app.get("/cookie")
    def cookie(key: Annotated[str, Depends(cookie_key)]) -> str:
        return key

    @app.get("/other")
    def other(key: Annotated[str, Depends(other_header_key)]) -> str:
        return key

    @app.get("/scoped")
    def scoped(
        _: Annotated[None, Depends(require_scope("admin", "items:read", granted=granted))],
    ) -> str:
        return "scoped"

    @app.get("/explicit", security=[{"manual": []}])
    def explicit(token: Annotated[str, Depends(bearer)]) -> str:
        return token

    return app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_app().openapi()


def operation(document: dict[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path]["get"]
    return found


def test_schemes_are_declared_once_each(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"] == {
        "manual": {"type": "http", "scheme": "digest"},
        "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "APIKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
        "HTTPBasic": {"type": "http", "scheme": "basic"},
        "Session": {"type": "apiKey", "in": "cookie", "name": "session"},
        "APIKeyHeader2": {"type": "apiKey", "in": "header", "name": "X-Other-Key"},
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {
                "password": {
                    "tokenUrl": "/token",
                    "scopes": {"items:read": "Read items", "admin": "Administer"},
                }
            },
            "description": "Log in with a username and password.",
        },
    }


@pytest.mark.parametrize(
    ("path", "security"),
    [
        ("/bearer", [{"HTTPBearer": []}]),
        ("/nested", [{"HTTPBearer": []}]),
        ("/both", [{"HTTPBearer": [], "APIKeyHeader": []}]),
        ("/optional", [{"APIKeyQuery": []}, {}]),
        ("/mixed", [{"HTTPBasic": [], "APIKeyQuery": []}, {"HTTPBasic": []}]),
        ("/cookie", [{"Session": []}]),
        ("/other", [{"APIKeyHeader2": []}]),
        ("/scoped", [{"OAuth2PasswordBearer": ["admin", "items:read"]}]),
        ("/explicit", [{"manual": []}]),
    ],
)
def test_operation_requirements(
    document: dict[str, Any], path: str, security: list[dict[str, list[str]]]
) -> None:
    found = operation(document, path)
    assert found["security"] == security
    assert found["responses"]["401"] == {"$ref": "#/components/responses/Unauthorized"}


def test_open_routes_have_no_requirement(document: dict[str, Any]) -> None:
    found = operation(document, "/open")
    assert "security" not in found
    assert "401" not in found["responses"]


def test_credentials_are_not_listed_as_parameters(document: dict[str, Any]) -> None:
    for path in ("/bearer", "/both", "/optional", "/cookie", "/scoped"):
        found = operation(document, path)
        assert "parameters" not in found, path
        assert "422" not in found["responses"], path


def test_guards_document_403(document: dict[str, Any]) -> None:
    assert operation(document, "/scoped")["responses"]["403"] == {
        "$ref": "#/components/responses/Forbidden"
    }
    assert "403" not in operation(document, "/bearer")["responses"]


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_document_is_valid_openapi(version: str) -> None:
    validation = pytest.importorskip("openapi_spec_validator.validation")
    validator = (
        validation.OpenAPIV31SpecValidator
        if version == "3.1"
        else validation.OpenAPIV30SpecValidator
    )
    errors = [str(error)[:500] for error in validator(build_app().openapi(version)).iter_errors()]
    assert errors == []
