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
from tests.conftest import MakeClient

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


# --- a mounted App's schemes in the parent's merged document ------------------------------------


def assert_valid(document: dict[str, Any], version: str) -> None:
    """``document`` passes the OpenAPI ``version`` schema (component keys included)."""
    validation = pytest.importorskip("openapi_spec_validator.validation")
    validator = (
        validation.OpenAPIV31SpecValidator
        if version == "3.1"
        else validation.OpenAPIV30SpecValidator
    )
    assert [str(error)[:500] for error in validator(document).iter_errors()] == []


def mounted_pair(prefix: str = "/admin", name: str | None = None) -> App:
    """A parent using HTTPBearer() and a mounted child using two schemes of its own."""
    child = App()
    child_bearer = HTTPBearer(description="Tokens of the admin service")  # same name, other scheme
    child_key = APIKeyHeader(name="X-Admin-Key")

    @child.get("/users", dependencies=[Depends(child_key)])
    def users(token: Annotated[str, Depends(child_bearer)]) -> list[str]:
        return [token]

    @child.get("/open")
    def child_open() -> str:
        return "open"

    parent = App()
    parent_bearer = HTTPBearer()

    @parent.get("/me")
    def me(token: Annotated[str, Depends(parent_bearer)]) -> str:
        return token

    parent.mount(prefix, child, name=name, include_in_schema=True)
    return parent


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_a_mounted_apps_schemes_are_in_the_merged_document(version: str) -> None:
    document = mounted_pair().openapi(version)
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer"}
    # The child's own HTTPBearer differs from the parent's: it is renamed, not lost or wrong.
    assert schemes["admin.HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Tokens of the admin service",
    }
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-Admin-Key"}
    users = document["paths"]["/admin/users"]["get"]
    assert users["security"] == [{"APIKeyHeader": [], "admin.HTTPBearer": []}]
    assert "security" not in document["paths"]["/admin/open"]["get"]
    assert document["paths"]["/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert_valid(document, version)


@pytest.mark.parametrize(
    ("prefix", "name", "renamed"),
    [
        ("/admin v2", None, "admin_v2.HTTPBearer"),
        ("/admin/v2", None, "admin.v2.HTTPBearer"),
        ("/caf\u00e9-2", None, "caf_-2.HTTPBearer"),
        ("/admin", "Admin API (v2)!", "Admin_API__v2__.HTTPBearer"),
        ("/admin", "a:b/c?d#e", "a_b_c_d_e.HTTPBearer"),
    ],
)
@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_a_renamed_schemes_key_is_a_valid_component_key(
    prefix: str, name: str | None, renamed: str, version: str
) -> None:
    """OpenAPI component keys match ^[a-zA-Z0-9.\\-_]+$: other characters of the mount's
    name (a space, a colon, a non-ASCII letter...) become "_" in the renamed scheme's key."""
    document = mounted_pair(prefix, name).openapi(version)
    schemes = document["components"]["securitySchemes"]
    assert sorted(schemes) == sorted(["HTTPBearer", "APIKeyHeader", renamed])
    assert schemes[renamed]["description"] == "Tokens of the admin service"
    (users,) = [item["get"] for path, item in document["paths"].items() if path.endswith("/users")]
    assert users["security"] == [{"APIKeyHeader": [], renamed: []}]
    assert_valid(document, version)


def test_a_scheme_both_apps_share_is_declared_once() -> None:
    shared = HTTPBearer()
    child = App()

    @child.get("/data")
    def data(token: Annotated[str, Depends(shared)]) -> str:
        return token

    parent = App()

    @parent.get("/me")
    def me(token: Annotated[str, Depends(shared)]) -> str:
        return token

    parent.mount("/child", child, include_in_schema=True)
    document = parent.openapi()
    assert list(document["components"]["securitySchemes"]) == ["HTTPBearer"]
    assert document["paths"]["/child/data"]["get"]["security"] == [{"HTTPBearer": []}]


def test_a_mount_left_out_of_the_schema_adds_no_scheme() -> None:
    child = App()
    key = APIKeyHeader(name="X-Key")

    @child.get("/data")
    def data(value: Annotated[str, Depends(key)]) -> str:
        return value

    parent = App()
    parent.mount("/child", child)

    @parent.get("/open")
    def parent_open() -> str:
        return "open"

    assert "securitySchemes" not in parent.openapi().get("components", {})


def test_the_mounted_apps_schemes_guard_its_routes(make_client: MakeClient) -> None:
    with make_client(mounted_pair()) as client:
        refused = client.get("/admin/users", headers={"authorization": "Bearer t"})
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "APIKey")
        both = {"authorization": "Bearer t", "x-admin-key": "k"}
        assert client.get("/admin/users", headers=both).json() == ["t"]
        assert client.get("/me").status_code == 401
