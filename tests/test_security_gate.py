"""The GATED call path: a header scheme checked by the dispatcher itself, answering as before.

A ``def`` route whose one dependency is a header security scheme (HTTPBearer,
OAuth2PasswordBearer, APIKeyHeader; a handler parameter, a route or a router dependency) is
called by the dispatchers with the credential, through ``Endpoint.gate``. Each answer of such
a route is compared with the same scheme run by the general dependency path (an ``async
def`` handler, and a ``def`` handler that also takes a query parameter), in both modes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest

from duoweb import App, Depends, Query, Router
from duoweb.endpoints import CallPath, Endpoint
from duoweb.security import (
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)
from tests.conftest import MakeClient

bearer = HTTPBearer(realm="api")
optional_bearer = HTTPBearer(auto_error=False, scheme_name="OptionalBearer")
oauth2 = OAuth2PasswordBearer(token_url="/token")
key = APIKeyHeader(name="X-API-Key")
optional_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="OptionalKey")
basic = HTTPBasic()
query_key = APIKeyQuery(name="api_key")


class CheckedBearer(HTTPBearer[str]):
    """A subclass with its own call: the dispatcher must not run the stock check for it."""

    def __call__(self, credential: str | None = None) -> str:
        return "checked:" + super().__call__(credential)


checked = CheckedBearer()

#: The schemes compared, by the name used in the routes' paths.
SCHEMES: dict[str, Any] = {
    "bearer": bearer,
    "optional": optional_bearer,
    "oauth2": oauth2,
    "key": key,
    "optional-key": optional_key,
}


def endpoint_of(app: App, template: str) -> Endpoint:
    """The one endpoint registered for ``template``."""
    (endpoint,) = [e for e in app.endpoints if e.template == template]
    return endpoint


def build_app() -> App:
    """For each scheme: a gated route, and the same answered by the general path twice."""
    app = App()
    for name, scheme in SCHEMES.items():

        def gated(item: int, value: Annotated[Any, Depends(scheme)]) -> list[Any]:
            return [item, value]

        async def awaited(item: int, value: Annotated[Any, Depends(scheme)]) -> list[Any]:
            return [item, value]

        def extracted(
            item: int, value: Annotated[Any, Depends(scheme)], q: Annotated[int, Query()] = 0
        ) -> list[Any]:
            return [item, value]

        def guarded(item: int) -> list[Any]:
            return [item, "guarded"]

        async def guarded_async(item: int) -> list[Any]:
            return [item, "guarded"]

        routes: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
            ("gated", gated, {"inline": True}),
            ("gated-pooled", gated, {"inline": False}),
            ("async", awaited, {}),
            ("extracted", extracted, {}),
            ("guard", guarded, {"inline": True, "dependencies": [Depends(scheme)]}),
            ("guard-async", guarded_async, {"dependencies": [Depends(scheme)]}),
        ]
        for prefix, handler, options in routes:
            path = f"/{prefix}/{name}/{{item}}"
            app.get(path, name=f"{prefix}-{name}", **options)(handler)

    @app.get("/checked", inline=True)
    def checked_route(token: Annotated[str, Depends(checked)]) -> str:
        return token

    @app.get("/basic")
    def basic_route(creds: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
        return creds.username

    @app.get("/query-key")
    def query_key_route(value: Annotated[str, Depends(query_key)]) -> str:
        return value

    @app.get("/two")
    def two(token: Annotated[str, Depends(bearer)], other: Annotated[str, Depends(key)]) -> str:
        return token + other

    admin = Router(prefix="/admin", dependencies=[Depends(bearer)])

    @admin.get("/panel", inline=True)
    def panel() -> str:
        return "panel"

    app.include_router(admin)
    return app


@pytest.fixture(scope="module")
def app() -> App:
    return build_app()


def test_header_schemes_of_def_routes_take_the_gated_path(app: App) -> None:
    for name in SCHEMES:
        for prefix in ("gated", "guard", "gated-pooled"):
            endpoint = endpoint_of(app, f"/{prefix}/{name}/{{item}}")
            assert endpoint.call_path is CallPath.GATED, (prefix, name)
            assert endpoint.gate is not None
            assert endpoint.direct is None
        assert endpoint_of(app, f"/gated/{name}/{{item}}").gate.names == ("item", "value")
        assert endpoint_of(app, f"/guard/{name}/{{item}}").gate.names == ("item",)
        # Under ASGI, a route run on the thread pool is not called by the dispatcher.
        assert endpoint_of(app, f"/gated-pooled/{name}/{{item}}").gate_inline is None
        assert endpoint_of(app, f"/gated/{name}/{{item}}").gate_inline is not None
        for prefix in ("async", "extracted", "guard-async"):
            endpoint = endpoint_of(app, f"/{prefix}/{name}/{{item}}")
            assert endpoint.call_path is CallPath.PROVIDER, (prefix, name)
            assert endpoint.gate is None
    assert endpoint_of(app, "/admin/panel").call_path is CallPath.GATED


def test_other_schemes_and_shapes_keep_the_general_path(app: App) -> None:
    assert endpoint_of(app, "/checked").call_path is CallPath.PROVIDER
    assert endpoint_of(app, "/basic").call_path is CallPath.PROVIDER
    assert endpoint_of(app, "/query-key").call_path is CallPath.PROVIDER
    assert endpoint_of(app, "/two").call_path is CallPath.PROVIDERS
    assert all(endpoint_of(app, path).gate is None for path in ("/checked", "/basic", "/two"))


AUTHORIZATIONS = [
    None,
    "",
    "Bearer abc.DEF-_~+/9==",
    "bearer   tok  ",
    "BEARER tok",
    "Bearer",
    "Bearer ",
    "Bearer a b",
    "Bearer abc=def",
    "Bearer t\u00e9",
    "Bearer\ttok",
    "Bearerabc",
    "Basic dTpw",
    "Token abc",
]
KEYS = [None, "", "k3y", " spaced key ", "Bearer abc", "\u00e9t\u00e9"]


def answer(response: Any) -> tuple[int, str | None, Any]:
    """What a client sees: status, challenge, body (the problem's instance left out)."""
    body = response.json()
    if isinstance(body, dict):
        body.pop("instance", None)
    return response.status_code, response.headers.get("www-authenticate"), body


@pytest.mark.parametrize("name", list(SCHEMES))
def test_gated_routes_answer_as_the_general_path(
    make_client: MakeClient, app: App, name: str
) -> None:
    header = "X-API-Key" if "key" in name else "Authorization"
    values = KEYS if "key" in name else AUTHORIZATIONS
    with make_client(app) as client:
        for value in values:
            # Sent as bytes: é goes as UTF-8, which the server reads as latin-1.
            headers: dict[bytes, bytes] = {} if value is None else {header.encode(): value.encode()}
            general = answer(client.get(f"/async/{name}/7", headers=headers))
            assert answer(client.get(f"/extracted/{name}/7", headers=headers)) == general
            for prefix in ("gated", "gated-pooled"):
                gated = answer(client.get(f"/{prefix}/{name}/7", headers=headers))
                assert gated == general, (prefix, value)
            guard = answer(client.get(f"/guard/{name}/7", headers=headers))
            assert guard == answer(client.get(f"/guard-async/{name}/7", headers=headers))
            if general[0] == 200:
                assert guard == (200, None, [7, "guarded"])
            else:
                assert guard == general, value


def test_gated_answers_are_the_schemes(make_client: MakeClient, app: App) -> None:
    with make_client(app) as client:
        ok = client.get("/gated/bearer/3", headers={"Authorization": "bearer  t0k= "})
        assert ok.json() == [3, "t0k="]
        missing = client.get("/gated/bearer/3")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="api"'
        assert missing.headers["content-type"] == "application/problem+json"
        bad = client.get("/gated/bearer/3", headers={"Authorization": "Bearer a,b"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"] == (
            'Bearer realm="api", error="invalid_token", '
            'error_description="The access token is malformed"'
        )
        assert client.get("/gated/optional/3").json() == [3, None]
        assert client.get("/gated/optional/3", headers={"Authorization": "Basic x"}).json() == [
            3,
            None,
        ]
        assert client.get("/gated/key/3", headers={"X-API-Key": "k"}).json() == [3, "k"]
        assert client.get("/gated/key/3").headers["www-authenticate"] == "APIKey"
        assert client.get("/gated/optional-key/3").json() == [3, None]
        assert client.get("/gated/bearer/x", headers={"Authorization": "Bearer t"}).status_code in (
            404,
            422,
        )
        assert client.get("/admin/panel").status_code == 401
        assert client.get("/admin/panel", headers={"Authorization": "Bearer t"}).json() == "panel"
        assert client.get("/checked", headers={"Authorization": "Bearer t"}).json() == "checked:t"


def test_an_override_of_the_scheme_leaves_the_gated_path(make_client: MakeClient) -> None:
    app = build_app()
    endpoint = endpoint_of(app, "/gated/bearer/{item}")
    app.dependency_overrides[bearer] = lambda: "fake"
    assert endpoint.call_path is CallPath.PROVIDER
    assert endpoint.gate is None
    with make_client(app) as client:
        assert client.get("/gated/bearer/1").json() == [1, "fake"]
    del app.dependency_overrides[bearer]
    assert endpoint.call_path.name == "GATED"
    with make_client(app) as client:
        assert client.get("/gated/bearer/1").status_code == 401


def test_app_middleware_sees_gated_answers(make_client: MakeClient) -> None:
    app = build_app()
    seen: list[int] = []

    @app.middleware
    def record(request: Any, call_next: Any) -> Any:
        response = call_next(request)
        seen.append(response.status_code)
        return response

    with make_client(app) as client:
        assert client.get("/gated/bearer/1").status_code == 401
        assert client.get("/gated/bearer/1", headers={"Authorization": "Bearer t"}).json() == [
            1,
            "t",
        ]
    assert seen == [401, 200]


def test_a_gate_passes_by_position_only_what_the_handler_takes_so(
    make_client: MakeClient,
) -> None:
    import functools

    app = App()

    @app.get("/positional/{item}", inline=True)
    def positional(item: int, token: Annotated[str, Depends(bearer)]) -> list[Any]:
        return [item, token]

    @app.get("/keyword/{item}", inline=True)
    def keyword(item: int, *, token: Annotated[str, Depends(bearer)]) -> list[Any]:
        return [item, token]

    @app.get("/reordered/{item}", inline=True)
    def reordered(token: Annotated[str, Depends(bearer)], item: int) -> list[Any]:
        return [item, token]

    def plain(item: int, token: Annotated[str, Depends(bearer)]) -> list[Any]:
        return [item, token]

    @functools.wraps(plain)
    def wrapped(**arguments: Any) -> Any:  # keywords only, whatever its copied signature says
        return plain(**arguments)

    app.get("/wrapped/{item}", inline=True)(wrapped)
    expected = {"/positional": True, "/keyword": False, "/reordered": False, "/wrapped": False}
    for path, by_position in expected.items():
        endpoint = endpoint_of(app, path + "/{item}")
        assert endpoint.call_path is CallPath.GATED, path
        assert endpoint.gate.by_position is by_position, path
    with make_client(app) as client:
        for path in expected:
            answered = client.get(path + "/5", headers={"Authorization": "Bearer t0k"})
            assert answered.json() == [5, "t0k"], path
            assert client.get(path + "/5").status_code == 401
