"""Schemes and guards as route and router dependencies: enforced, and declared in OpenAPI.

Discovery needs nothing special for them: route and router dependencies are nodes of the
route's dependency graph like any other provider.
"""

from __future__ import annotations

from typing import Annotated

import pytest

from duoweb import App, Depends, Router
from duoweb.security import APIKeyHeader, OAuth2PasswordBearer, SecurityScopes, require_scope
from tests.conftest import MakeClient

oauth2 = OAuth2PasswordBearer(token_url="/token", scopes={"admin": "Administer"})
api_key = APIKeyHeader(name="X-API-Key")
GRANTS = {"t-admin": "admin", "t-user": ""}


async def granted(token: Annotated[str, Depends(oauth2)]) -> SecurityScopes:
    return SecurityScopes(GRANTS.get(token, ""))


def build_app() -> App:
    app = App()
    admin = Router(prefix="/admin", dependencies=[Depends(require_scope("admin", granted=granted))])

    @admin.get("/stats")
    def stats() -> dict[str, int]:
        return {"users": 2}

    @admin.post("/reset")
    async def reset() -> str:
        return "reset"

    app.include_router(admin)

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
