"""Streaming, file and Server-Sent Event responses in both modes; cleanup on disconnect."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from duoweb import App, EventSourceResponse, FileResponse, ServerSentEvent, StreamingResponse
from tests.conftest import MakeClient


def build_app(log: list[str], tmp_path: Path) -> App:
    app = App()
    data = tmp_path / "report.csv"
    data.write_bytes(b"a,b\n" * 5000)

    @app.get("/sync-stream")
    def sync_stream() -> StreamingResponse:
        def numbers() -> Iterator[str]:
            try:
                for i in range(5):
                    yield f"{i}\n"
            finally:
                log.append("sync closed")

        return StreamingResponse(numbers(), media_type="text/plain")

    @app.get("/async-stream")
    async def async_stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            try:
                for i in range(5):
                    await asyncio.sleep(0)
                    yield f"{i}\n".encode()
            finally:
                log.append("async closed")

        return StreamingResponse(numbers(), media_type="text/plain")

    @app.get("/file")
    def file() -> FileResponse:
        return FileResponse(data)

    @app.get("/download")
    def download() -> FileResponse:
        return FileResponse(data, filename="résumé 2024.csv")

    @app.get("/events")
    def events() -> EventSourceResponse:
        return EventSourceResponse(
            [
                ServerSentEvent(data="hello", event="greeting", id="1"),
                {"n": 2},
                ServerSentEvent(data="two\nlines", retry=1000),
                ServerSentEvent(comment="keep-alive"),
            ]
        )

    return app


@pytest.mark.parametrize("path", ["/sync-stream", "/async-stream"])
def test_streams_from_sync_and_async_iterators(
    make_client: MakeClient, path: str, tmp_path: Path
) -> None:
    log: list[str] = []
    with make_client(build_app(log, tmp_path)) as client:
        response = client.get(path)
        assert response.status_code == 200
        assert response.text == "0\n1\n2\n3\n4\n"
        assert "content-length" not in response.headers
    assert log == [("sync" if path.startswith("/sync") else "async") + " closed"]


def test_file_response(make_client: MakeClient, tmp_path: Path) -> None:
    with make_client(build_app([], tmp_path)) as client:
        response = client.get("/file")
        assert response.content == b"a,b\n" * 5000
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-length"] == str(4 * 5000)
        assert "last-modified" in response.headers
        download = client.get("/download")
        assert download.headers["content-disposition"] == (
            "attachment; filename=\"r?sum? 2024.csv\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202024.csv"
        )
        head = client.head("/file")
        assert head.content == b""
        assert head.headers["content-length"] == str(4 * 5000)


def test_server_sent_events(make_client: MakeClient, tmp_path: Path) -> None:
    with make_client(build_app([], tmp_path)) as client:
        response = client.get("/events")
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.text == (
            "event: greeting\nid: 1\ndata: hello\n\n"
            'data: {"n":2}\n\n'
            "retry: 1000\ndata: two\ndata: lines\n\n"
            ": keep-alive\n\n"
        )


def test_sse_refuses_newlines_in_fields() -> None:
    with pytest.raises(ValueError, match="one line"):
        ServerSentEvent(data="x", event="a\nb").encode()


def _asgi_call(app: App, path: str, receive_plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    gate = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if receive_plan:
            return receive_plan.pop(0)
        await gate.wait()  # the client disconnects once two chunks have arrived
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if len([m for m in sent if m.get("more_body")]) >= 2:
            gate.set()

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    asyncio.run(asyncio.wait_for(app.asgi(scope, receive, send), timeout=10))
    return sent


def test_asgi_disconnect_stops_an_endless_stream_and_runs_cleanup() -> None:
    log: list[str] = []
    app = App(disconnect_grace=0.05)

    @app.get("/forever")
    async def forever() -> StreamingResponse:
        async def ticks() -> AsyncIterator[bytes]:
            try:
                while True:
                    await asyncio.sleep(0.001)
                    yield b"tick\n"
            finally:
                log.append("cleaned up")

        return StreamingResponse(ticks())

    sent = _asgi_call(app, "/forever", [{"type": "http.request", "body": b""}])
    assert sent[0]["status"] == 200
    assert log == ["cleaned up"]


def test_asgi_disconnect_closes_a_sync_generator_too() -> None:
    log: list[str] = []
    stop = threading.Event()
    app = App(disconnect_grace=0.05)

    @app.get("/forever")
    def forever() -> StreamingResponse:
        def ticks() -> Iterator[bytes]:
            try:
                while not stop.is_set():
                    yield b"tick\n"
            finally:
                log.append("cleaned up")

        return StreamingResponse(ticks())

    try:
        _asgi_call(app, "/forever", [])
    finally:
        stop.set()
    assert log == ["cleaned up"]


def test_asgi_uses_pathsend_when_the_server_offers_it(tmp_path: Path) -> None:
    app = build_app([], tmp_path)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/file",
        "query_string": b"",
        "headers": [],
        "extensions": {"http.response.pathsend": {}},
    }
    asyncio.run(app.asgi(scope, receive, send))
    assert sent[1] == {"type": "http.response.pathsend", "path": str(tmp_path / "report.csv")}


def test_wsgi_uses_the_servers_file_wrapper_and_closes_streams(tmp_path: Path) -> None:
    log: list[str] = []
    app = build_app(log, tmp_path)
    wrapped: list[Any] = []

    def file_wrapper(file: Any, block_size: int) -> list[bytes]:
        wrapped.append(file)
        data = file.read()
        file.close()
        return [data]

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/file",
        "QUERY_STRING": "",
        "wsgi.file_wrapper": file_wrapper,
        "wsgi.input": None,
    }
    body = app.wsgi(environ, lambda status, headers, exc=None: None)
    assert b"".join(body) == b"a,b\n" * 5000
    assert len(wrapped) == 1
    # A server that stops iterating early must still close the stream.
    environ["PATH_INFO"] = "/sync-stream"
    stream = app.wsgi(environ, lambda status, headers, exc=None: None)
    iterator = iter(stream)
    assert next(iterator) == b"0\n"
    stream.close()  # type: ignore[attr-defined]
    assert log == ["sync closed"]


def test_http_date_matches_the_standard_library() -> None:
    from email.utils import formatdate

    from duoweb.streaming import http_date

    for moment in (0.0, 784111777.0, 1_700_000_000.5, 4_102_444_799.0):
        assert http_date(moment) == formatdate(moment, usegmt=True)


# Issue 20, item 2: only CR, LF and CRLF break SSE lines; other Unicode breaks are data.
SSE_NON_BREAKS = ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]


@pytest.mark.parametrize("handler_kind", ["def", "async def"])
def test_sse_keeps_unicode_line_separators_in_json(
    make_client: MakeClient, handler_kind: str
) -> None:
    app = App()
    payload = {"text": "a" + "".join(SSE_NON_BREAKS) + "b"}
    if handler_kind == "def":

        @app.get("/events")
        def events() -> EventSourceResponse:
            return EventSourceResponse([payload, ServerSentEvent(data="x\u2028y\r\nz\rw")])

    else:

        @app.get("/events")
        async def events_async() -> EventSourceResponse:
            return EventSourceResponse([payload, ServerSentEvent(data="x\u2028y\r\nz\rw")])

    with make_client(app) as client:
        text = client.get("/events").content.decode()
    first, second, rest = text.split("\n\n")
    assert rest == ""
    # A client joins data lines; the JSON event must still be the one JSON document.
    assert first.startswith("data: ")
    assert "\n" not in first
    assert msgspec.json.decode(first.removeprefix("data: ").encode()) == payload
    assert second == "data: x\u2028y\ndata: z\ndata: w"


def test_sse_fields_may_hold_unicode_separators_but_not_line_breaks() -> None:
    assert (
        ServerSentEvent(data="x", event="a\u2028b").encode()
        == b"event: a\xe2\x80\xa8b\ndata: x\n\n"
    )
    with pytest.raises(ValueError, match="one line"):
        ServerSentEvent(data="x", id="a\rb").encode()


# Issue 20, item 8: the ASCII fallback of a download name is always a valid quoted-string.
@pytest.mark.parametrize(
    ("filename", "fallback", "encoded"),
    [
        ("abc\\", "abc?", "abc%5C"),
        ('say "hi".txt', "say hi.txt", "say%20%22hi%22.txt"),
        ("bell\x07\ttab\x7f.txt", "bell??tab?.txt", "bell%07%09tab%7F.txt"),
        ("new\r\nline.txt", "new??line.txt", "new%0D%0Aline.txt"),
        ("lone\udc80.txt", "lone?.txt", "lone%3F.txt"),
    ],
)
def test_download_filename_fallback_is_a_closed_quoted_string(
    make_client: MakeClient, tmp_path: Path, filename: str, fallback: str, encoded: str
) -> None:
    app = App()
    data = tmp_path / "data.bin"
    data.write_bytes(b"x")

    @app.get("/download")
    def download() -> FileResponse:
        return FileResponse(data, filename=filename)

    with make_client(app) as client:
        response = client.get("/download")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    )


# Issue 20, item 4: a disconnect reported right after the request (a half-closed client under
# Hypercorn) does not cut a body that can still be delivered.
def _half_closed_asgi_call(app: App, path: str) -> bytes:
    sent: list[dict[str, Any]] = []
    plan = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if plan:
            return plan.pop(0)
        return {"type": "http.disconnect"}  # the client shut its write side at once

    async def send(message: dict[str, Any]) -> None:
        await asyncio.sleep(0.001)  # a real socket takes a moment per chunk
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    asyncio.run(asyncio.wait_for(app.asgi(scope, receive, send), timeout=10))
    assert sent[0]["status"] == 200
    assert sent[-1].get("more_body", False) is False
    return b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("handler_kind", ["def", "async def"])
def test_half_closed_client_gets_the_whole_body(
    tmp_path: Path, handler_kind: str, make_client: MakeClient
) -> None:
    from duoweb import StaticFiles

    data = tmp_path / "big.bin"
    data.write_bytes(bytes(range(256)) * 2048)  # 512 KiB: several chunks
    app = App()
    StaticFiles(tmp_path).mount(app, "/static")
    if handler_kind == "def":

        @app.get("/file")
        def file() -> FileResponse:
            return FileResponse(data, chunk_size=16 * 1024)

        @app.get("/stream")
        def stream() -> StreamingResponse:
            return StreamingResponse(f"{n}\n" for n in range(200))

    else:

        @app.get("/file")
        async def file_async() -> FileResponse:
            return FileResponse(data, chunk_size=16 * 1024)

        @app.get("/stream")
        async def stream_async() -> StreamingResponse:
            async def lines() -> AsyncIterator[str]:
                for n in range(200):
                    yield f"{n}\n"

            return StreamingResponse(lines())

    expected = {
        "/file": data.read_bytes(),
        "/static/big.bin": data.read_bytes(),
        "/stream": "".join(f"{n}\n" for n in range(200)).encode(),
    }
    for path, body in expected.items():
        assert _half_closed_asgi_call(app, path) == body, path
    with make_client(app) as client:  # and the same bodies in the current mode
        for path, body in expected.items():
            assert client.get(path).content == body


def test_disconnect_grace_zero_stops_at_once() -> None:
    app = App(disconnect_grace=0)

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(f"{n}\n" for n in range(100_000))

    body = _half_closed_asgi_call(app, "/stream")
    assert len(body) < len("".join(f"{n}\n" for n in range(100_000)))
