"""WebSockets under ASGI (in-process and under Hypercorn), and a clear refusal under WSGI."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pytest

from duoweb import App, CloseCode, RouteDefinitionError, WebSocket, WebSocketDisconnect
from duoweb.testing import TestClient, WebSocketRejected


class Move(msgspec.Struct):
    x: int
    y: int


def build_app(log: list[str]) -> App:
    app = App()

    @app.websocket("/echo/{room}")
    async def echo(ws: WebSocket, room: str) -> None:
        await ws.accept(subprotocol="chat" if "chat" in ws.subprotocols else None)
        try:
            async for text in ws.iter_text():
                await ws.send_text(f"{room}: {text}")
        finally:
            log.append("echo cleanup")

    @app.websocket("/moves")
    async def moves(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            move = await ws.receive_json(Move)
            await ws.send_json({"sum": move.x + move.y})

    @app.websocket("/bytes")
    async def binary(ws: WebSocket) -> None:
        await ws.accept()
        data = await ws.receive_bytes()
        await ws.send_bytes(data[::-1])
        await ws.close(CloseCode.NORMAL)

    @app.websocket("/guarded")
    async def guarded(ws: WebSocket) -> None:
        if ws.query.get("token") != "s3cret":
            await ws.close(CloseCode.POLICY_VIOLATION)
            return
        await ws.accept()
        await ws.send_text("welcome")

    @app.websocket("/crash")
    async def crash(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("handler bug")

    @app.get("/plain")
    def plain() -> str:
        return "http"

    return app


def test_echo_with_path_parameter_and_subprotocol() -> None:
    log: list[str] = []
    with TestClient(build_app(log), "asgi") as client:
        with client.websocket_connect("/echo/lobby", subprotocols=["chat"]) as ws:
            assert ws.subprotocol == "chat"
            ws.send_text("hi")
            assert ws.receive_text() == "lobby: hi"
            ws.send_text("again")
            assert ws.receive_text() == "lobby: again"
        assert log == ["echo cleanup"]  # the disconnect ended the loop and ran cleanup


def test_json_messages_are_validated() -> None:
    with TestClient(build_app([]), "asgi") as client, client.websocket_connect("/moves") as ws:
        ws.send_json({"x": 2, "y": 3})
        assert ws.receive_json() == {"sum": 5}
        ws.send_text('{"x": "two"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == CloseCode.INVALID_PAYLOAD


def test_bytes_and_explicit_close() -> None:
    with TestClient(build_app([]), "asgi") as client, client.websocket_connect("/bytes") as ws:
        ws.send_bytes(b"\x01\x02\x03")
        assert ws.receive_bytes() == b"\x03\x02\x01"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == CloseCode.NORMAL


def test_refused_handshake_and_unknown_path() -> None:
    with TestClient(build_app([]), "asgi") as client:
        with pytest.raises(WebSocketRejected) as refused:
            client.websocket_connect("/guarded?token=wrong")
        assert refused.value.code == CloseCode.POLICY_VIOLATION
        with client.websocket_connect("/guarded?token=s3cret") as ws:
            assert ws.receive_text() == "welcome"
        with pytest.raises(WebSocketRejected):
            client.websocket_connect("/nowhere")


def test_handler_error_closes_with_1011_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(build_app([]), "asgi") as client, client.websocket_connect("/crash") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == CloseCode.INTERNAL_ERROR
    assert any("handler bug" in str(record.exc_info) for record in caplog.records)


def test_oversized_message_closes_with_1009() -> None:
    app = App()

    @app.websocket("/small", max_message_size=10)
    async def small(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(await ws.receive_text())

    with TestClient(app, "asgi") as client, client.websocket_connect("/small") as ws:
        ws.send_text("x" * 11)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == CloseCode.MESSAGE_TOO_BIG


def test_http_request_to_a_websocket_route() -> None:
    with TestClient(build_app([]), "asgi") as client:
        response = client.get("/echo/lobby")
        assert response.status_code == 426
        assert response.headers["upgrade"] == "websocket"
        assert client.get("/plain").json() == "http"


def test_wsgi_says_websockets_need_asgi_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    app = build_app([])
    with caplog.at_level(logging.WARNING, logger="duoweb"), TestClient(app, "wsgi") as client:
        for _ in range(3):
            response = client.get(
                "/echo/lobby", headers={"upgrade": "websocket", "connection": "upgrade"}
            )
            assert response.status_code == 501
            assert response.headers["content-type"] == "application/problem+json"
            assert "ASGI" in response.json()["detail"]
    warnings = [r for r in caplog.records if "WebSocket" in r.getMessage()]
    assert len(warnings) == 1


def test_websocket_handlers_are_checked_at_registration() -> None:
    app = App()
    with pytest.raises(RouteDefinitionError, match="async def"):

        @app.websocket("/a")
        def sync_handler(ws: WebSocket) -> None: ...

    with pytest.raises(RouteDefinitionError, match="'other'"):

        @app.websocket("/b")
        async def extra(ws: WebSocket, other: int) -> None: ...


@pytest.mark.e2e
def test_under_hypercorn() -> None:
    from websockets.sync.client import connect

    from tests.e2e.servers import serve

    with serve("hypercorn", "tests.e2e.websocket_app:app.asgi") as base:
        url = base.replace("http://", "ws://")
        with connect(url + "/echo/main") as ws:
            ws.send("over the wire")
            assert ws.recv(timeout=10) == "main: over the wire"
        with connect(url + "/moves") as ws:
            ws.send('{"x": 40, "y": 2}')
            reply: Any = msgspec.json.decode(ws.recv(timeout=10))
            assert reply == {"sum": 42}


# Issue 20, item 7: too many query parameters is the client's fault: 1008 and one log line.
def test_too_many_query_parameters_is_a_policy_close(caplog: pytest.LogCaptureFixture) -> None:
    app = App(max_query_params=5)

    @app.websocket("/q")
    async def query(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(ws.query.get("a") or "")

    query_string = "&".join(f"k{n}=v" for n in range(1001))
    with caplog.at_level(logging.WARNING, logger="duoweb"), TestClient(app, "asgi") as client:
        with client.websocket_connect("/q?a=x&b=y") as ws:
            assert ws.receive_text() == "x"
        for path in ("/q?" + "&".join(f"k{n}=v" for n in range(6)), "/q?" + query_string):
            with client.websocket_connect(path) as ws, pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            assert closed.value.code == CloseCode.POLICY_VIOLATION
    failures = [r for r in caplog.records if r.name == "duoweb"]
    assert len(failures) == 2
    assert all(
        r.exc_info is None and "more than 5 query parameters" in r.getMessage() for r in failures
    )


def test_http_error_4xx_from_a_handler_is_a_policy_close_before_and_after_accept() -> None:
    from duoweb import HTTPError

    app = App()

    @app.websocket("/late")
    async def late(ws: WebSocket) -> None:
        await ws.accept()
        raise HTTPError(403, "no")

    @app.websocket("/early")
    async def early(ws: WebSocket) -> None:
        raise HTTPError(403, "no")

    with TestClient(app, "asgi") as client:
        with client.websocket_connect("/late") as ws, pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == CloseCode.POLICY_VIOLATION
        with pytest.raises(WebSocketRejected) as refused:
            client.websocket_connect("/early")
        assert refused.value.code == CloseCode.POLICY_VIOLATION


# Issue 20, item 6: accept(headers=...) checks every header and sends latin-1.
def _accepting_app(headers: list[tuple[str, str]], subprotocol: str | None = None) -> App:
    app = App()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept(subprotocol=subprotocol, headers=headers)
        await ws.send_text("open")

    return app


def test_accept_headers_are_sent_as_latin1() -> None:
    app = _accepting_app([("X-Name", "café"), ("x-plain", "a b")])
    with TestClient(app, "asgi") as client, client.websocket_connect("/ws") as ws:
        assert ws.headers == [("x-name", "café"), ("x-plain", "a b")]
        assert ws.receive_text() == "open"


@pytest.mark.parametrize(
    ("headers", "subprotocol"),
    [
        ([("x-evil", "a\r\nSet-Cookie: b=c")], None),
        ([("x-bell", "a\x07")], None),
        ([("x-nul", "a\x00")], None),
        ([("x-wide", "snow \u2603")], None),
        ([("bad name", "v")], None),
        ([("x:y", "v")], None),
        ([], "chat\r\nx-evil: 1"),
    ],
)
def test_unsafe_accept_headers_refuse_the_handshake(
    caplog: pytest.LogCaptureFixture, headers: list[tuple[str, str]], subprotocol: str | None
) -> None:
    app = _accepting_app(headers, subprotocol)
    with TestClient(app, "asgi") as client, pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/ws")
    assert refused.value.code == CloseCode.POLICY_VIOLATION
    assert any("UnsafeHeader" in repr(r.exc_info) for r in caplog.records)


def test_close_reason_is_cut_to_123_bytes_of_utf8() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(CloseCode.NORMAL, "é" * 100 + "\udc80")

    with (
        TestClient(app, "asgi") as client,
        client.websocket_connect("/ws") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.reason == "é" * 61
    assert len(closed.value.reason.encode()) <= 123


# Issue 20, item 11: a WebSocket route can refuse pages from other origins.
def test_websocket_origin_check() -> None:
    import re

    app = App()

    @app.websocket("/listed", allowed_origins=["https://app.example"])
    async def listed(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hi")

    @app.websocket("/pattern", allowed_origins=re.compile(r"https://[a-z]+\.example"))
    async def pattern(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hi")

    with TestClient(app, "asgi") as client:
        for path, origin in (("/listed", "https://APP.example"), ("/pattern", "https://b.example")):
            with client.websocket_connect(path, headers={"origin": origin}) as ws:
                assert ws.receive_text() == "hi"
        with client.websocket_connect("/listed") as ws:  # no Origin: not a browser
            assert ws.receive_text() == "hi"
        for path, origin in (
            ("/listed", "https://evil.example"),
            ("/listed", "null"),
            ("/pattern", "https://b.example.evil"),
            ("/pattern", "http://b.example"),
        ):
            with pytest.raises(WebSocketRejected) as refused:
                client.websocket_connect(path, headers={"origin": origin})
            assert refused.value.code == CloseCode.POLICY_VIOLATION


def test_websocket_allowed_origins_are_checked_at_registration() -> None:
    app = App()
    with pytest.raises(ValueError, match="allowed_origins"):
        app.websocket("/ws", allowed_origins=["https://app.example/path"])


def test_websocket_origin_check_on_a_router_route() -> None:
    from duoweb import Router

    router = Router()

    @router.websocket("/ws", allowed_origins="https://app.example")
    async def routed(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("routed")

    app = App()
    app.include_router(router, prefix="/r")
    with TestClient(app, "asgi") as client:
        with client.websocket_connect("/r/ws", headers={"origin": "https://app.example"}) as ws:
            assert ws.receive_text() == "routed"
        with pytest.raises(WebSocketRejected):
            client.websocket_connect("/r/ws", headers={"origin": "https://evil.example"})
