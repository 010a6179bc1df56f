"""CORS: preflights, actual requests, credentials and caching rules, in both modes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duoweb import App, Request, Response
from duoweb.cors import CORSMiddleware
from duoweb.testing import TestClient
from tests.conftest import MakeClient

Install = Callable[[App, CORSMiddleware], None]

ORIGIN = "https://app.example"


@pytest.fixture(params=["def", "async def"])
def install(request: pytest.FixtureRequest) -> Install:
    """Register the middleware as its def or its async def side."""

    def add(app: App, middleware: CORSMiddleware) -> None:
        app.middleware(middleware if request.param == "def" else middleware.call_async)

    return add


def build(install: Install, **options: Any) -> tuple[App, list[str]]:
    app = App()
    reached: list[str] = []
    install(app, CORSMiddleware(**options))

    @app.get("/items")
    def items() -> list[int]:
        reached.append("items")
        return [1, 2]

    @app.put("/items")
    async def replace_items() -> None:
        reached.append("replace")

    @app.get("/varies")
    def varies() -> Response:
        return Response(b"x", headers={"vary": "Accept", "x-total": "3"})

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("broken")

    return app, reached


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def vary(response: httpx.Response) -> list[str]:
    return [v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()]


def preflight(
    client: httpx.Client,
    method: str = "PUT",
    headers: str | None = None,
    origin: str = ORIGIN,
    path: str = "/items",
) -> httpx.Response:
    sent = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        sent["access-control-request-headers"] = headers
    return client.options(path, headers=sent)


def test_preflight_is_answered_with_the_allowances(
    make_client: MakeClient, install: Install
) -> None:
    app, reached = build(
        install,
        allow_origins=[ORIGIN],
        allow_methods=["GET", "PUT"],
        allow_headers=["X-Token"],
        max_age=120,
    )
    with make_client(app) as client:
        response = preflight(client, "PUT", "x-token,content-type")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers
    assert cors_headers(response) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-methods": "GET, PUT",
        "access-control-allow-headers": "x-token",
        "access-control-max-age": "120",
    }
    assert vary(response) == [
        "origin",
        "access-control-request-method",
        "access-control-request-headers",
    ]
    assert reached == []


def test_preflight_for_a_path_without_route_is_answered_too(
    make_client: MakeClient, install: Install
) -> None:
    app, _ = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = preflight(client, "POST", path="/nowhere")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN


@pytest.mark.parametrize(
    ("origin", "method", "headers", "detail"),
    [
        ("https://evil.example", "GET", None, "'https://evil.example' are not allowed"),
        (ORIGIN, "DELETE", None, "'DELETE' requests are not allowed"),
        (ORIGIN, "delete", None, "'delete' requests are not allowed"),
        (ORIGIN, "GET", "x-token, x-secret", "may not send x-token, x-secret"),
        (ORIGIN, "GET", "bad header", "may not send bad header"),
        ("null", "GET", None, "'null' are not allowed"),
    ],
)
def test_a_refused_preflight_is_a_403_problem_without_cors_headers(
    make_client: MakeClient,
    install: Install,
    origin: str,
    method: str,
    headers: str | None,
    detail: str,
) -> None:
    app, reached = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = preflight(client, method, headers, origin=origin)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert cors_headers(response) == {}
    assert "origin" in vary(response)
    assert reached == []


def test_safelisted_headers_are_always_allowed(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = preflight(client, "POST", "content-type, accept, accept-language")
    assert response.status_code == 204
    # Nothing to list: browsers never need the safelisted names in the answer.
    assert "access-control-allow-headers" not in response.headers


def test_wildcard_methods_and_headers_echo_the_request(
    make_client: MakeClient, install: Install
) -> None:
    app, _ = build(
        install,
        allow_origins=[ORIGIN],
        allow_methods="*",
        allow_headers="*",
        allow_credentials=True,
    )
    with make_client(app) as client:
        response = preflight(client, "PATCH", "Authorization, X-Anything")
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "PATCH"
    # Echoed, not "*": a literal "*" never covers Authorization, nor anything with credentials.
    assert response.headers["access-control-allow-headers"] == "authorization, x-anything"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_max_age_none_says_nothing(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=[ORIGIN], max_age=None)
    with make_client(app) as client:
        assert "access-control-max-age" not in preflight(client, "GET").headers


def test_actual_request_from_an_allowed_origin(make_client: MakeClient, install: Install) -> None:
    app, reached = build(install, allow_origins=[ORIGIN], expose_headers=["X-Total"])
    with make_client(app) as client:
        response = client.get("/items", headers={"origin": ORIGIN})
    assert response.json() == [1, 2]
    assert cors_headers(response) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-expose-headers": "x-total",
    }
    assert vary(response) == ["origin"]
    assert reached == ["items"]


def test_actual_request_from_another_origin_gets_no_cors_headers(
    make_client: MakeClient, install: Install
) -> None:
    app, reached = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = client.get("/items", headers={"origin": "https://evil.example"})
    # The server still answers (CORS is enforced by the browser), but grants nothing.
    assert response.status_code == 200
    assert cors_headers(response) == {}
    assert vary(response) == ["origin"]
    assert reached == ["items"]


def test_requests_without_origin_still_vary_on_origin(
    make_client: MakeClient, install: Install
) -> None:
    app, _ = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = client.get("/items")
    assert cors_headers(response) == {}
    assert vary(response) == ["origin"]


def test_existing_vary_is_extended(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = client.get("/varies", headers={"origin": ORIGIN})
    assert response.headers.get_list("vary") == ["Accept, Origin"]


def test_options_without_request_method_is_an_actual_request(
    make_client: MakeClient, install: Install
) -> None:
    app, _ = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = client.options("/items", headers={"origin": ORIGIN})
    assert response.status_code == 204
    assert "PUT" in response.headers["allow"]
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-methods" not in response.headers


def test_wildcard_without_credentials_sends_star_everywhere(
    make_client: MakeClient, install: Install
) -> None:
    app, _ = build(install, allow_origins="*")
    with make_client(app) as client:
        with_origin = client.get("/items", headers={"origin": "https://any.example"})
        without_origin = client.get("/items")
        opaque = client.get("/items", headers={"origin": "null"})
        answered = preflight(client, "POST", origin="https://any.example")
        opaque_preflight = preflight(client, "POST", origin="null")
    for response in (with_origin, without_origin, opaque, answered, opaque_preflight):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers
    # Same answer for every origin: nothing for caches to tell apart.
    assert "origin" not in vary(with_origin)
    assert "origin" not in vary(without_origin)


def test_wildcard_with_credentials_echoes_the_origin(
    make_client: MakeClient, install: Install
) -> None:
    app, _ = build(
        install,
        allow_origins="*",
        allow_credentials=True,
        allow_any_origin_with_credentials=True,
    )
    with make_client(app) as client:
        response = client.get("/items", headers={"origin": "https://any.example"})
        opaque = client.get("/items", headers={"origin": "null"})
        answered = preflight(client, "POST", origin="https://any.example")
    assert response.headers["access-control-allow-origin"] == "https://any.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert vary(response) == ["origin"]
    assert answered.headers["access-control-allow-origin"] == "https://any.example"
    assert answered.headers["access-control-allow-credentials"] == "true"
    # Sandboxed frames and file: pages send "null": never granted credentials by a wildcard.
    assert cors_headers(opaque) == {}


def test_null_origin_when_listed(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=["null"])
    with make_client(app) as client:
        response = client.get("/items", headers={"origin": "null"})
    assert response.headers["access-control-allow-origin"] == "null"


def test_regex_must_match_the_whole_origin(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=re.compile(r"https://([a-z0-9-]+\.)?example\.com"))
    with make_client(app) as client:
        good = client.get("/items", headers={"origin": "https://api.example.com"})
        apex = client.get("/items", headers={"origin": "https://example.com"})
        suffix = client.get("/items", headers={"origin": "https://example.com.evil.net"})
    assert good.headers["access-control-allow-origin"] == "https://api.example.com"
    assert apex.headers["access-control-allow-origin"] == "https://example.com"
    assert "access-control-allow-origin" not in suffix.headers


def test_predicate(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=lambda origin: origin.endswith(".internal"))
    with make_client(app) as client:
        yes = client.get("/items", headers={"origin": "http://dash.internal"})
        no = client.get("/items", headers={"origin": "http://dash.external"})
    assert yes.headers["access-control-allow-origin"] == "http://dash.internal"
    assert "access-control-allow-origin" not in no.headers


def test_credentials_with_a_list(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=[ORIGIN, "http://localhost:3000"], allow_credentials=True)
    with make_client(app) as client:
        response = client.get("/items", headers={"origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_repeated_origin_headers_are_refused(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        response = client.get("/items", headers=[("origin", ORIGIN), ("origin", ORIGIN)])
    assert cors_headers(response) == {}


def test_error_responses_are_readable_cross_origin(
    make_client: MakeClient, install: Install
) -> None:
    app, _ = build(install, allow_origins=[ORIGIN])
    with make_client(app) as client:
        missing = client.get("/missing", headers={"origin": ORIGIN})
        crashed = client.get("/boom", headers={"origin": ORIGIN})
    assert missing.status_code == 404
    assert crashed.status_code == 500
    for response in (missing, crashed):
        assert response.headers["access-control-allow-origin"] == ORIGIN


def test_short_circuit_happens_before_inner_middleware(make_client: MakeClient) -> None:
    app = App()
    seen: list[str] = []
    app.middleware(CORSMiddleware(allow_origins=[ORIGIN]))

    @app.middleware
    def inner(request: Request, call_next: Callable[[Request], Response]) -> Response:
        seen.append(request.method)
        return call_next(request)

    with make_client(app) as client:
        preflight(client, "POST")
        client.get("/", headers={"origin": ORIGIN})
    assert seen == ["GET"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_origins": ["https://a.example/"]}, "no path or trailing slash"),
        ({"allow_origins": ["a.example"]}, "is not an origin"),
        ({"allow_origins": ["*", "https://a.example"]}, "cannot be combined"),
        ({"allow_methods": ["GET", "*"]}, "cannot be combined"),
        ({"allow_methods": ["GE T"]}, "not a valid name"),
        ({"allow_headers": ["x:y"]}, "not a valid name"),
        ({"expose_headers": "*", "allow_credentials": True}, "list the header names"),
        ({"max_age": -1}, "max_age"),
    ],
)
def test_configuration_mistakes_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        CORSMiddleware(**options)


def test_expose_all_without_credentials(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=[ORIGIN], expose_headers="*")
    with make_client(app) as client:
        response = client.get("/varies", headers={"origin": ORIGIN})
    assert response.headers["access-control-expose-headers"] == "*"


def test_single_origin_string(make_client: MakeClient, install: Install) -> None:
    app, _ = build(install, allow_origins=ORIGIN)
    with make_client(app) as client:
        response = client.get("/items", headers={"origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN


field_value = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(origin=field_value, method=field_value, requested=field_value)
def test_any_preflight_gets_a_204_or_a_403(origin: str, method: str, requested: str) -> None:
    def as_def(app: App, middleware: CORSMiddleware) -> None:
        app.middleware(middleware)

    app, _ = build(as_def, allow_origins=[ORIGIN], allow_headers="*")
    headers = {
        "origin": origin.strip(),
        "access-control-request-method": method.strip(),
        "access-control-request-headers": requested.strip(),
    }
    encoded = {k.encode(): v.encode("latin-1") for k, v in headers.items()}
    with TestClient(app, "wsgi") as client:
        response = client.options("/items", headers=encoded)
    assert response.status_code in (204, 403)


# Issue 20, item 11: "*" with credentials only by an explicit opt-in.
def test_wildcard_with_credentials_is_refused_without_the_opt_in() -> None:
    with pytest.raises(ValueError, match="allow_any_origin_with_credentials"):
        CORSMiddleware(allow_origins="*", allow_credentials=True)
    with pytest.raises(ValueError, match="allow_any_origin_with_credentials"):
        CORSMiddleware(allow_origins=["*"], allow_credentials=True)
    CORSMiddleware(allow_origins="*")  # no credentials: every origin may read, no cookies
    CORSMiddleware(allow_origins=re.compile(r"https://.*"), allow_credentials=True)  # explicit
