"""Schemes and guards as route and router dependencies: enforced, and declared in OpenAPI.

Route/router ``dependencies=[...]`` come with ``duoweb.Router`` (the composition issue); until
that is merged these tests skip, saying so. Discovery needs nothing more from it: route and
router dependencies are nodes of the route's dependency graph like any other provider.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest

import duoweb
from duoweb import App, Depends
from duoweb.security import APIKeyHeader, OAuth2PasswordBearer, SecurityScopes, require_scope
from tests.conftest import MakeClient

Router: Any = getattr(duoweb, "Router", None)
pytestmark = pytest.mark.skipif(
    Router is None, reason="duoweb.Router (route and router dependencies) is not merged yet"
)

oauth2 = OAuth2PasswordBearer(token_url="/token", scopes={"admin": "Administer"})
api_key = APIKeyHeader(name="X-API-Key")
GRANTS = {"t-admin": "admin", "t-user": ""}


async def granted(token: Annotated[str, Depends(oauth2)]) -> SecurityScopes:
    return SecurityScopes(GRANTS.get(token, ""))


def build_app() -> App:
    app = App()
    admin = Router(prefix="/admin", dependencies=[Depends(require_scope("admin", granted=granted))])

    def stats() -> dict[str, int]:
        return {"users": 2}

    async def reset() -> str:
        return "reset"

    admin.get("/stats")(stats)
    admin.post("/reset")(reset)
    composed: Any = app  # typed as App before the Router work is merged
    composed.include_router(admin)

    @app.get("/keyed", dependencies=[Depends(api_key)])
    def keyed() -> str:
        return "keyed"

    return app


@pytest.mark.parametrize(("method", "path"), [("GET", "/admin/stats"), ("POST", "/admin/reset")])
def test_router_guard(make_client: MakeClient, method: str, path: str) -> None:
    with make_client(build_app()) as client:
        allowed = client.request(method, path, headers={"Authorization": "Bearer t-admin"})
        assert allowed.status_code == 200
        forbidden = client.request(method, path, headers={"Authorization": "Bearer t-user"})
        assert forbidden.status_code == 403
        assert "insufficient_scope" in forbidden.headers["www-authenticate"]
        assert client.request(method, path).status_code == 401


def test_route_dependency_scheme(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        assert client.get("/keyed", headers={"X-API-Key": "k"}).json() == "keyed"
        assert client.get("/keyed").status_code == 401


def test_openapi_sees_route_and_router_dependencies() -> None:
    document = build_app().openapi()
    assert document["paths"]["/admin/stats"]["get"]["security"] == [
        {"OAuth2PasswordBearer": ["admin"]}
    ]
    assert document["paths"]["/admin/reset"]["post"]["security"] == [
        {"OAuth2PasswordBearer": ["admin"]}
    ]
    assert document["paths"]["/keyed"]["get"]["security"] == [{"APIKeyHeader": []}]
    assert set(document["components"]["securitySchemes"]) == {
        "OAuth2PasswordBearer",
        "APIKeyHeader",
    }
