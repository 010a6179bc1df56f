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


def first_message(app: App, path: str, headers: dict[str, str]) -> str:
    """The first text message of a WebSocket opened to ``app`` at ``path``."""
    with TestClient(app, "asgi") as client, client.websocket_connect(path, headers=headers) as ws:
        return ws.receive_text()


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
    assert first_message(guarded_app(), path, headers) == greeting


def test_websocket_routes_are_not_in_the_openapi_document() -> None:
    """OpenAPI describes HTTP operations only; the HTTP routes keep their requirements."""
    document = guarded_app().openapi()
    assert set(document["paths"]) == {"/private/page", "/me"}
    assert document["paths"]["/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert document["paths"]["/private/page"]["get"]["security"] == [{"APIKeyCookie": []}]


# --- the handler takes the credential itself -----------------------------------------------------

optional_bearer = HTTPBearer(auto_error=False)


def handler_app() -> App:
    """WebSocket handlers whose parameters are security schemes or providers using them."""
    app = App()

    @app.websocket("/token")
    async def token(ws: WebSocket, token: Annotated[str, Depends(bearer)]) -> None:
        await ws.accept()
        await ws.send_text(token)

    @app.websocket("/checked/{room}")
    async def checked(
        ws: WebSocket, room: int, token: Annotated[str, Depends(known_token)]
    ) -> None:
        await ws.accept()
        await ws.send_text(f"{room}:{token}")

    @app.websocket("/ticket")
    async def ticket(
        ws: WebSocket,
        ticket: str = Depends(known_ticket),  # type: ignore[assignment]
    ) -> None:
        await ws.accept()
        await ws.send_text(ticket)

    @app.websocket("/maybe")
    async def maybe(ws: WebSocket, token: Annotated[str | None, Depends(optional_bearer)]) -> None:
        await ws.accept()
        await ws.send_text(token or "anonymous")

    return app


@pytest.mark.parametrize(
    ("path", "headers", "greeting"),
    [
        ("/token", {"authorization": "Bearer abc"}, "abc"),
        ("/checked/7", {"authorization": "Bearer s3cret"}, "7:s3cret"),
        ("/ticket?ticket=t1", {}, "t1"),
        ("/maybe", {"authorization": "Bearer abc"}, "abc"),
        ("/maybe", {}, "anonymous"),
    ],
)
def test_the_handler_receives_the_schemes_value(
    path: str, headers: dict[str, str], greeting: str
) -> None:
    assert first_message(handler_app(), path, headers) == greeting


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/token", {}),
        ("/token", {"authorization": "Basic dXNlcjpwYXNz"}),
        ("/checked/7", {"authorization": "Bearer wrong"}),
        ("/ticket?ticket=wrong", {}),
        ("/ticket", {}),
    ],
)
def test_a_handlers_refused_credential_refuses_the_handshake(
    path: str, headers: dict[str, str]
) -> None:
    with (
        TestClient(handler_app(), "asgi") as client,
        pytest.raises(WebSocketRejected) as refused,
    ):
        client.websocket_connect(path, headers=headers)
    assert refused.value.code == CloseCode.POLICY_VIOLATION


def test_a_handlers_provider_runs_once_per_handshake_and_is_overridable() -> None:
    """A provider both the route and the handler ask for runs once; an override replaces it."""
    calls: list[str] = []

    def counted(token: Annotated[str, Depends(bearer)]) -> str:
        calls.append(token)
        return token.upper()

    app = App()

    @app.websocket("/once", dependencies=[Depends(counted)])
    async def once(ws: WebSocket, token: Annotated[str, Depends(counted)]) -> None:
        await ws.accept()
        await ws.send_text(token)

    with TestClient(app, "asgi") as client:
        with client.websocket_connect("/once", headers={"authorization": "Bearer x"}) as ws:
            assert ws.receive_text() == "X"
        assert calls == ["x"]
        app.dependency_overrides[counted] = lambda: "stand-in"
        with client.websocket_connect("/once") as ws:
            assert ws.receive_text() == "stand-in"
        assert calls == ["x"]
