"""Security schemes guarding WebSocket routes: a refused handshake, never an open socket.

A WebSocket route takes credentials as route or router ``dependencies``; a missing or bad
credential refuses the handshake (close 1008 before accept, which servers answer with 403).
OpenAPI has no WebSocket operations, so WebSocket routes are not in the document.
"""

from __future__ import annotations

from typing import Annotated

import pytest

from duoweb import App, CloseCode, Depends, HTTPError, Router, WebSocket
from duoweb.security import APIKeyCookie, APIKeyQuery, HTTPBearer, constant_time_equal
from duoweb.testing import TestClient, WebSocketRejected

bearer = HTTPBearer()
query_key = APIKeyQuery(name="ticket")
cookie_key = APIKeyCookie(name="session")


def known_token(token: Annotated[str, Depends(bearer)]) -> str:
    """A def provider checking the token (a real app looks it up)."""
    if not constant_time_equal(token, "s3cret"):
        raise HTTPError(401, "Unknown token.", headers={"WWW-Authenticate": "Bearer"})
    return token


async def known_ticket(ticket: Annotated[str, Depends(query_key)]) -> str:
    """An async def provider: browsers cannot set headers on a WebSocket, so a ticket in the
    query string (or a cookie) is how they authenticate."""
    if not constant_time_equal(ticket, "t1"):
        raise HTTPError(401, "Unknown ticket.", headers={"WWW-Authenticate": "APIKey"})
    return ticket


def guarded_app() -> App:
    app = App()

    @app.websocket("/bearer", dependencies=[Depends(bearer)])
    async def plain(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("in")

    @app.websocket("/checked", dependencies=[Depends(known_token)])
    async def checked(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("checked")

    @app.websocket("/ticket", dependencies=[Depends(known_ticket)])
    async def ticket(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ticket")

    router = Router(prefix="/private", dependencies=[Depends(cookie_key)])

    @router.websocket("/feed")
    async def feed(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(ws.headers.get("cookie", ""))

    @router.get("/page")
    def page() -> str:
        return "page"

    app.include_router(router)

    @app.get("/me")
    def me(token: Annotated[str, Depends(known_token)]) -> str:
        return token

    return app


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/bearer", {}),
        ("/bearer", {"authorization": "Basic dXNlcjpwYXNz"}),
        ("/bearer", {"authorization": "Bearer not a token"}),
        ("/bearer", {"authorization": ""}),
        ("/checked", {}),
        ("/checked", {"authorization": "Bearer wrong"}),
        ("/ticket", {}),
        ("/ticket?ticket=wrong", {}),
        ("/private/feed", {}),
        ("/private/feed", {"cookie": "other=1"}),
    ],
)
def test_missing_or_bad_credentials_refuse_the_handshake(
    path: str, headers: dict[str, str]
) -> None:
    with TestClient(guarded_app(), "asgi") as client, pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect(path, headers=headers)
    assert refused.value.code == CloseCode.POLICY_VIOLATION


@pytest.mark.parametrize(
    ("path", "headers", "greeting"),
    [
        ("/bearer", {"authorization": "Bearer anything"}, "in"),
        ("/bearer", {"authorization": "bearer anything"}, "in"),
        ("/checked", {"authorization": "Bearer s3cret"}, "checked"),
        ("/ticket?ticket=t1", {}, "ticket"),
        ("/private/feed", {"cookie": "session=abc"}, "session=abc"),
    ],
)
def test_good_credentials_open_the_socket(
    path: str, headers: dict[str, str], greeting: str
) -> None:
    with (
        TestClient(guarded_app(), "asgi") as client,
        client.websocket_connect(path, headers=headers) as ws,
    ):
        assert ws.receive_text() == greeting


def test_websocket_routes_are_not_in_the_openapi_document() -> None:
    """OpenAPI describes HTTP operations only; the HTTP routes keep their requirements."""
    document = guarded_app().openapi()
    assert set(document["paths"]) == {"/private/page", "/me"}
    assert document["paths"]["/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert document["paths"]["/private/page"]["get"]["security"] == [{"APIKeyCookie": []}]
