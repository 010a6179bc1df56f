"""Cookies: read from requests, set and deleted on responses with safe defaults, both modes."""

from __future__ import annotations

import pytest

from duoweb import App, Request, Response
from tests.conftest import MakeClient


def build_app() -> App:
    app = App()

    @app.post("/login")
    def login() -> Response:
        response = Response(status_code=204)
        response.set_cookie("session", "abc123", max_age=3600)
        response.set_cookie("theme", "dark", httponly=False, secure=True, samesite="strict")
        return response

    @app.post("/logout")
    def logout() -> Response:
        response = Response(status_code=204)
        response.delete_cookie("session")
        return response

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, str]:
        return request.cookies

    return app


def test_set_cookie_has_safe_defaults(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        cookies = client.post("/login").headers.get_list("set-cookie")
    assert cookies[0] == "session=abc123; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"
    assert cookies[1] == "theme=dark; Path=/; Secure; SameSite=Strict"


def test_delete_cookie_expires_it(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        header = client.post("/logout").headers["set-cookie"]
    assert header.startswith("session=; ")
    assert "Max-Age=0" in header
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in header


def test_request_cookies_round_trip(make_client: MakeClient) -> None:
    with make_client(build_app()) as client:
        client.post("/login")
        # The Secure "theme" cookie is, rightly, not sent back over plain http.
        assert client.get("/whoami").json() == {"session": "abc123"}


def test_unsafe_cookies_are_refused() -> None:
    response = Response()
    with pytest.raises(ValueError, match="Secure"):
        response.set_cookie("a", "b", samesite="none")
    with pytest.raises(ValueError, match="cookie-octet"):
        response.set_cookie("a", "b\r\nInjected: yes")
    with pytest.raises(ValueError, match="token"):
        response.set_cookie("a;b", "c")
