"""App(trusted_proxies=...): forwarding headers are believed only from configured proxies."""

from __future__ import annotations

from typing import Any

import pytest

from duoweb import App, Request
from duoweb.testing import Mode, TestClient


def build_app(trusted: list[str] | None) -> App:
    app = App(trusted_proxies=trusted)

    @app.get("/items/{item_id}", name="item")
    def item(request: Request, item_id: int) -> dict[str, Any]:
        return {
            "scheme": request.scheme,
            "client": list(request.client or ()),
            "host": request.host,
            "url": request.url,
            "link": request.url_for("item", item_id=item_id + 1),
        }

    return app


FORWARDED = {
    "x-forwarded-for": "203.0.113.7, 10.0.0.5",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.example.com",
}


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_trusted_proxy_headers_shape_scheme_client_and_urls(mode: Mode) -> None:
    app = build_app(["127.0.0.1", "10.0.0.0/8"])
    with TestClient(app, mode, client=("127.0.0.1", 40000)) as client:
        body = client.get("/items/1?x=1", headers=FORWARDED).json()
    assert body == {
        "scheme": "https",
        "client": ["203.0.113.7", 0],
        "host": "api.example.com",
        "url": "https://api.example.com/items/1?x=1",
        "link": "https://api.example.com/items/2",
    }


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_rfc7239_forwarded_is_preferred(mode: Mode) -> None:
    app = build_app(["127.0.0.1"])
    headers = {**FORWARDED, "forwarded": 'for="198.51.100.2:5555";proto=https;host=shop.example'}
    with TestClient(app, mode, client=("127.0.0.1", 40000)) as client:
        body = client.get("/items/1", headers=headers).json()
    assert body["client"] == ["198.51.100.2", 5555]
    assert body["link"] == "https://shop.example/items/2"


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
@pytest.mark.parametrize("trusted", [None, ["10.9.9.9"]])
def test_headers_from_an_untrusted_peer_are_ignored(mode: Mode, trusted: list[str] | None) -> None:
    app = build_app(trusted)
    with TestClient(app, mode, client=("127.0.0.1", 40000)) as client:
        body = client.get("/items/1", headers=FORWARDED).json()
    assert body == {
        "scheme": "http",
        "client": ["127.0.0.1", 40000],
        "host": "testserver",
        "url": "http://testserver/items/1",
        "link": "http://testserver/items/2",
    }


def test_bad_configuration_fails_at_startup() -> None:
    with pytest.raises(ValueError, match="not-an-address"):
        App(trusted_proxies=["not-an-address"])


# Issue 20, item 10: a trusted proxy's scheme is http, https, ws or wss, nothing else.
@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
@pytest.mark.parametrize("proto", ["javascript", "ftp", "data", "file", "gopher"])
def test_forwarded_scheme_other_than_http_or_ws_is_ignored(mode: Mode, proto: str) -> None:
    app = build_app(["127.0.0.1"])
    with TestClient(app, mode, client=("127.0.0.1", 40000)) as client:
        via_x = client.get("/items/1", headers={**FORWARDED, "x-forwarded-proto": proto}).json()
        via_rfc = client.get("/items/1", headers={"forwarded": f"proto={proto}"}).json()
    assert via_x["scheme"] == "http"
    assert via_x["link"] == "http://api.example.com/items/2"
    assert via_rfc["link"] == "http://testserver/items/2"


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
@pytest.mark.parametrize("proto", ["http", "HTTPS", "ws", "wss"])
def test_forwarded_scheme_http_https_ws_wss_are_believed(mode: Mode, proto: str) -> None:
    app = build_app(["127.0.0.1"])
    with TestClient(app, mode, client=("127.0.0.1", 40000)) as client:
        body = client.get("/items/1", headers={"forwarded": f"proto={proto}"}).json()
    assert body["scheme"] == proto.lower()
