"""Request body bounds: 413 on a declared or streamed excess, 400 on broken framing."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import pytest

from duoweb import App, Request, Response
from duoweb.testing import TestClient
from tests.conftest import MakeClient


def build_app(calls: list[str]) -> App:
    app = App(max_body_size=100)

    @app.post("/small")
    def small(request: Request) -> Response:
        calls.append("small")
        return Response(str(len(request.body)), media_type="text/plain")

    @app.post("/large", max_body_size=1000)
    def large(request: Request) -> Response:
        calls.append("large")
        return Response(str(len(request.body)), media_type="text/plain")

    return app


def test_body_within_limit_is_read(make_client: MakeClient) -> None:
    calls: list[str] = []
    with make_client(build_app(calls)) as client:
        assert client.post("/small", content=b"x" * 100).text == "100"
        assert client.post("/large", content=b"x" * 1000).text == "1000"


def test_declared_length_over_limit_is_413_before_the_handler(make_client: MakeClient) -> None:
    calls: list[str] = []
    with make_client(build_app(calls)) as client:
        response = client.post("/small", content=b"x" * 101)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert client.post("/large", content=b"x" * 1001).status_code == 413
    assert calls == []


def test_chunked_body_over_limit_is_413(make_client: MakeClient) -> None:
    calls: list[str] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(11):
            yield b"y" * 10

    with make_client(build_app(calls)) as client:
        response = client.post("/small", content=chunks())
        assert response.status_code == 413
        ok = client.post("/small", content=iter([b"a" * 50, b"b" * 50]))
        assert ok.text == "100"
    assert calls == ["small"]


def test_malformed_content_length_is_400(make_client: MakeClient) -> None:
    calls: list[str] = []
    with make_client(build_app(calls)) as client:
        response = client.post("/small", content=b"abc", headers={"content-length": "3x"})
        assert response.status_code == 400
    assert calls == []


def _environ(body: Any, length: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/small",
        "QUERY_STRING": "",
        "SERVER_NAME": "t",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": body,
        "wsgi.url_scheme": "http",
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ


def _call_wsgi(app: App, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen: list[str] = []
    body = b"".join(app.wsgi(environ, lambda status, headers, exc=None: seen.append(status)))
    return seen[0], body


def test_wsgi_truncated_body_is_400_not_a_complete_body() -> None:
    calls: list[str] = []
    status, _ = _call_wsgi(build_app(calls), _environ(io.BytesIO(b"short"), "50"))
    assert status.startswith("400")
    assert calls == []


def test_wsgi_framing_error_from_the_server_is_400() -> None:
    class BrokenInput:
        def read(self, size: int = -1) -> bytes:
            raise ValueError("Invalid chunk size")  # what a server raises on bad framing

    calls: list[str] = []
    environ = _environ(BrokenInput(), None)
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    status, body = _call_wsgi(build_app(calls), environ)
    assert status.startswith("400")
    assert b"Invalid chunk" not in body
    assert calls == []


def test_wsgi_without_length_or_chunking_reads_nothing() -> None:
    class MustNotRead:
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("read without a length may block forever")

    calls: list[str] = []
    status, body = _call_wsgi(build_app(calls), _environ(MustNotRead(), None))
    assert status.startswith("200")
    assert body == b"0"


def test_asgi_disconnect_during_body_sends_nothing_and_skips_the_handler() -> None:
    calls: list[str] = []
    app = build_app(calls)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"part", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/small",
        "query_string": b"",
        "headers": [],
    }
    asyncio.run(app.asgi(scope, receive, send))
    assert sent == []
    assert calls == []


def test_asgi_conflicting_content_lengths_are_400() -> None:
    app = build_app([])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"abc"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/small",
        "query_string": b"",
        "headers": [(b"content-length", b"3"), (b"content-length", b"4")],
    }
    asyncio.run(app.asgi(scope, receive, send))
    assert sent[0]["status"] == 400


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_default_limit_is_one_mebibyte(mode: str) -> None:
    app = App()

    @app.post("/b")
    def b(request: Request) -> int:
        return len(request.body)

    with TestClient(app, "wsgi" if mode == "wsgi" else "asgi") as client:
        assert client.post("/b", content=b"z" * (1024 * 1024)).json() == 1024 * 1024
        assert client.post("/b", content=b"z" * (1024 * 1024 + 1)).status_code == 413


def test_deeply_nested_json_is_400_not_a_recursion_error(make_client: MakeClient) -> None:
    import msgspec

    app = App()

    class Wrapper(msgspec.Struct):
        v: list[object]

    @app.post("/any")
    def any_json(request: Request) -> object:
        return request.json()

    @app.post("/struct")
    def struct(body: Wrapper) -> int:
        return len(body.v)

    deep = b"[" * 100_000 + b"]" * 100_000
    headers = {"content-type": "application/json"}
    with make_client(app) as client:
        assert client.post("/any", content=deep, headers=headers).status_code == 400
        response = client.post("/struct", content=b'{"v":' + deep + b"}", headers=headers)
        assert response.status_code == 400
        assert "nested too deeply" in response.json()["detail"]
        assert client.post("/any", content=b"[[[1]]]", headers=headers).json() == [[[1]]]


def test_path_longer_than_the_limit_is_414(make_client: MakeClient) -> None:
    app = App(max_path_length=50)

    @app.get("/{name}")
    def named(name: str) -> str:
        return name

    with make_client(app) as client:
        assert client.get("/" + "a" * 49).status_code == 200
        response = client.get("/", extensions={"raw_path": b"/" + b"a" * 50})
        assert response.status_code == 414
        assert response.headers["content-type"] == "application/problem+json"
