"""The Host header: validated before it reaches absolute URLs, and App(allowed_hosts=...)."""

from __future__ import annotations

import pytest

from duoweb import App, Request, WebSocket
from duoweb.hosts import AllowedHosts
from duoweb.testing import Mode, TestClient, WebSocketRejected
from tests.conftest import MakeClient


def build_app(**options: object) -> App:
    app = App(**options)  # type: ignore[arg-type]

    @app.get("/items/{item_id}", name="item")
    def item(request: Request, item_id: int) -> dict[str, str]:
        return {"url": request.url, "link": request.url_for("item", item_id=2)}

    @app.get("/async-url")
    async def async_url(request: Request) -> str:
        return request.base_url

    @app.get("/plain")
    def plain() -> str:
        return "ok"

    return app


@pytest.mark.parametrize(
    "host",
    ["evil.com:80@x", "a/b", "a b", "x%2f", "[::1", "h\\x", "a:b:c", "host:123456", "a,b"],
)
def test_malformed_host_never_reaches_absolute_urls(make_client: MakeClient, host: str) -> None:
    with make_client(build_app()) as client:
        for path in ("/items/1", "/async-url"):
            response = client.get(path, headers={"host": host})
            assert response.status_code == 400, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert host not in response.text
        assert client.get("/plain", headers={"host": host}).status_code == 200  # unused: fine


@pytest.mark.parametrize(
    "host", ["api.example.com", "api.example.com:8443", "[::1]:80", "10.0.0.1"]
)
def test_valid_hosts_build_urls(make_client: MakeClient, host: str) -> None:
    with make_client(build_app()) as client:
        body = client.get("/items/1", headers={"host": host}).json()
    assert body == {"url": f"http://{host}/items/1", "link": f"http://{host}/items/2"}


ALLOWED = ["api.example.com", "*.apps.example.com", ".example.org", "localhost:8000", "[::1]"]


@pytest.mark.parametrize(
    ("host", "served"),
    [
        ("api.example.com", True),
        ("API.Example.COM.", True),
        ("api.example.com:8443", True),
        ("x.apps.example.com", True),
        ("apps.example.com", False),
        ("example.org", True),
        ("a.b.example.org", True),
        ("badexample.org", False),
        ("localhost:8000", True),
        ("localhost:8001", False),
        ("localhost", False),
        ("[::1]:9000", True),
        ("evil.com", False),
        ("api.example.com.evil.com", False),
        ("evil.com:80@api.example.com", False),
    ],
)
def test_allowed_hosts_answers_400_for_other_hosts(mode: Mode, host: str, served: bool) -> None:
    with TestClient(build_app(allowed_hosts=ALLOWED), mode) as client:
        for path in ("/plain", "/items/1", "/nowhere"):
            response = client.get(path, headers={"host": host})
            if served:
                assert response.status_code in (200, 404), (path, response.text)
            else:
                assert response.status_code == 400, (path, response.text)
                assert "does not serve" in response.json()["detail"]


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_allowed_hosts_use_the_trusted_proxy_host(mode: Mode) -> None:
    app = build_app(allowed_hosts=["public.example"], trusted_proxies=["127.0.0.1"])
    with TestClient(app, mode, client=("127.0.0.1", 5000)) as client:
        forwarded = {"host": "internal:8080", "x-forwarded-host": "public.example"}
        assert client.get("/plain", headers=forwarded).status_code == 200
        assert client.get("/plain", headers={"host": "internal:8080"}).status_code == 400


def test_allowed_hosts_guard_websocket_handshakes() -> None:
    app = App(allowed_hosts=["chat.example"])

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hi")

    with TestClient(app, "asgi") as client:
        with client.websocket_connect("/ws", headers={"host": "chat.example"}) as session:
            assert session.receive_text() == "hi"
        with pytest.raises(WebSocketRejected):
            client.websocket_connect("/ws", headers={"host": "evil.example"})


@pytest.mark.parametrize("pattern", ["", "http://x", "a/b", "*.", "**.a", "a b", "x:y"])
def test_bad_allowed_host_patterns_fail_at_construction(pattern: str) -> None:
    with pytest.raises(ValueError, match="allowed_hosts"):
        App(allowed_hosts=[pattern])
    with pytest.raises(ValueError, match="at least one"):
        AllowedHosts([])


def test_an_app_without_allowed_hosts_checks_nothing(make_client: MakeClient) -> None:
    app = build_app()
    assert app.allowed_hosts is None
    with make_client(app) as client:
        assert client.get("/plain", headers={"host": "anything.example"}).status_code == 200
