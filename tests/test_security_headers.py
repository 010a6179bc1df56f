"""Credentials read one header field at a time: the same answers as the whole headers view.

``request.header(name)`` reads one field straight from the WSGI environ or the ASGI scope;
header parameters, security schemes and cookies use it while the headers view is not built.
Odd input (repeated fields, empty values, bytes that are not latin-1 text) must get exactly
what ``request.headers`` gives, in both modes, for ``def`` and ``async def`` code.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from duoweb import App, Depends, Header, Request
from duoweb.endpoints import CallPath
from duoweb.security import APIKeyCookie, APIKeyHeader, HTTPBearer
from tests.conftest import MakeClient
from tests.test_call_paths import endpoint_of

#: (what the request carries, raw header fields): the odd cases and a plain one.
FIELDS: list[tuple[str, list[tuple[bytes, bytes]]]] = [
    ("absent", []),
    ("plain", [(b"Authorization", b"Bearer abc.def")]),
    ("repeated", [(b"Authorization", b"Bearer one"), (b"authorization", b"Bearer two")]),
    ("empty", [(b"Authorization", b"")]),
    ("not latin-1 text", [(b"Authorization", b"Bearer \xff\xfe\xc3\xa9")]),
    ("upper-case name", [(b"AUTHORIZATION", b"Bearer abc")]),
    ("scheme only", [(b"Authorization", b"Bearer")]),
]


def reading_app() -> App:
    app = App()

    @app.get("/read")
    def read(request: Request) -> dict[str, Any]:
        one = [request.header("authorization"), request.header("Authorization")]
        return {"one": one, "view": request.headers.get("authorization")}

    @app.get("/param/def")
    def param(authorization: Annotated[str | None, Header()] = None) -> list[str | None]:
        return [authorization]

    @app.get("/param/async")
    async def param_async(
        authorization: Annotated[str | None, Header()] = None,
    ) -> list[str | None]:
        return [authorization]

    @app.get("/view")
    def view(request: Request) -> list[str | None]:
        return [request.headers.get("authorization")]

    bearer = HTTPBearer()

    @app.get("/bearer/def")
    def bearer_def(token: Annotated[str, Depends(bearer)]) -> str:
        return token

    @app.get("/bearer/async")
    async def bearer_async(token: Annotated[str, Depends(bearer)]) -> str:
        return token

    async def async_provider(token: Annotated[str, Depends(bearer)]) -> str:
        return token

    @app.get("/bearer/async-provider")
    def bearer_async_provider(token: Annotated[str, Depends(async_provider)]) -> str:
        return token

    def bearer_by_view(request: Request) -> str:
        return bearer(request.headers.get("authorization"))

    @app.get("/bearer/view")
    def bearer_view(token: Annotated[str, Depends(bearer_by_view)]) -> str:
        return token

    return app


def answer(response: Any) -> tuple[int, Any, str | None]:
    return (response.status_code, response.json(), response.headers.get("www-authenticate"))


@pytest.mark.parametrize(("case", "fields"), FIELDS, ids=[case for case, _ in FIELDS])
def test_one_field_reads_as_the_view_does(
    make_client: MakeClient, case: str, fields: list[tuple[bytes, bytes]]
) -> None:
    with make_client(reading_app()) as client:
        read = client.get("/read", headers=fields).json()
        assert read["one"] == [read["view"], read["view"]]
        view = client.get("/view", headers=fields).json()
        assert view == [read["view"]]
        for kind in ("def", "async"):
            assert client.get(f"/param/{kind}", headers=fields).json() == view
        reference = answer(client.get("/bearer/view", headers=fields))
        for path in ("/bearer/def", "/bearer/async", "/bearer/async-provider"):
            assert answer(client.get(path, headers=fields)) == reference, path


def test_the_odd_cases_answer_as_documented(make_client: MakeClient) -> None:
    with make_client(reading_app()) as client:
        repeated = client.get("/view", headers=dict(FIELDS)["repeated"]).json()
        assert repeated == ["Bearer one,Bearer two"]  # joined, as servers do
        assert client.get("/view", headers=dict(FIELDS)["empty"]).json() == [""]
        text = client.get("/view", headers=dict(FIELDS)["not latin-1 text"]).json()
        assert text == ["Bearer \xff\xfe\xc3\xa9"]  # latin-1, byte for byte
        for case, challenge in (
            ("absent", "Bearer"),
            ("empty", "Bearer"),
            ("scheme only", "Bearer"),
            ("repeated", 'Bearer error="invalid_token"'),
            ("not latin-1 text", 'Bearer error="invalid_token"'),
        ):
            refused = client.get("/bearer/def", headers=dict(FIELDS)[case])
            assert refused.status_code == 401, case
            assert refused.headers["www-authenticate"].startswith(challenge), case
        assert client.get("/bearer/def", headers=dict(FIELDS)["upper-case name"]).json() == "abc"


def test_a_built_view_answers_header_reads(make_client: MakeClient) -> None:
    """Once middleware or a handler built ``request.headers``, ``header()`` reads the view."""
    app = App()

    @app.get("/both")
    def both(request: Request) -> list[str | None]:
        view = request.headers
        return [request.header("x-a"), view.get("x-a"), request.header("x_a")]

    with make_client(app) as client:
        assert client.get("/both", headers={"X-A": "1"}).json() == ["1", "1", None]


def test_api_keys_and_cookies_are_read_without_the_view(make_client: MakeClient) -> None:
    app = App()
    key = APIKeyHeader(name="X-API-Key")
    session = APIKeyCookie(name="session")

    @app.get("/key")
    def with_key(value: Annotated[str, Depends(key)]) -> str:
        return value

    @app.get("/cookie")
    async def with_cookie(value: Annotated[str, Depends(session)]) -> str:
        return value

    with make_client(app) as client:
        assert client.get("/key", headers={"x-api-key": "k"}).json() == "k"
        repeated = client.get("/key", headers=[(b"X-API-Key", b"a"), (b"X-API-Key", b"b")])
        assert repeated.json() == "a,b"
        assert client.get("/key", headers={"x-api-key": ""}).status_code == 401
        assert client.get("/cookie", headers={"cookie": "a=1; session=s"}).json() == "s"
        assert client.get("/cookie", headers={"cookie": ""}).status_code == 401


@pytest.mark.parametrize("is_async", [False, True])
def test_a_router_key_check_and_a_bearer_take_the_providers_path(
    make_client: MakeClient, is_async: bool
) -> None:
    app = App()
    key = APIKeyHeader(name="X-API-Key")
    bearer = HTTPBearer()

    if is_async:

        @app.get("/both", dependencies=[Depends(key)])
        async def both(token: Annotated[str, Depends(bearer)]) -> str:
            return token
    else:

        @app.get("/both", dependencies=[Depends(key)])
        def both(token: Annotated[str, Depends(bearer)]) -> str:  # type: ignore[misc]
            return token

    assert endpoint_of(app, "/both").call_path is CallPath.PROVIDERS
    fields = {"x-api-key": "k", "authorization": "Bearer t"}
    with make_client(app) as client:
        assert client.get("/both", headers=fields).json() == "t"
        no_key = client.get("/both", headers={"authorization": "Bearer t"})
        assert (no_key.status_code, no_key.headers["www-authenticate"]) == (401, "APIKey")
        no_token = client.get("/both", headers={"x-api-key": "k"})
        assert (no_token.status_code, no_token.headers["www-authenticate"]) == (401, "Bearer")
