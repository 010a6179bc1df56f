"""Compression: negotiation, eligibility, HEAD, streaming (flushed per chunk), in both modes."""

from __future__ import annotations

import asyncio
import gzip
import importlib
import io
import os
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import FileWrapper

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duoweb import (
    App,
    EventSourceResponse,
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from duoweb import compression as compression_module
from duoweb.compression import CompressionMiddleware, available_encodings, negotiate_encoding
from duoweb.testing import TestClient
from tests.conftest import MakeClient

Install = Callable[[App, CompressionMiddleware], None]

DOCUMENT = {"items": [{"id": i, "name": f"item number {i}"} for i in range(200)]}
TEXT = "All work and no play makes Jack a dull boy. " * 100
BIG = b"0123456789abcdef" * 8192  # 128 KiB: the async side compresses it in the thread pool

needs_br = pytest.mark.skipif(
    "br" not in available_encodings(), reason="brotli/brotlicffi is not installed"
)
needs_zstd = pytest.mark.skipif(
    "zstd" not in available_encodings(), reason="zstandard is not installed"
)


def decompress(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "br":
        return bytes(importlib.import_module("brotli").decompress(data))
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def incremental(coding: str) -> Callable[[bytes], bytes]:
    """A function feeding one chunk to a streaming decoder and returning what it decoded."""
    if coding == "gzip":
        gz = zlib.decompressobj(31)
        return gz.decompress
    if coding == "br":
        br = importlib.import_module("brotli").Decompressor()
        return lambda chunk: bytes(br.process(chunk))
    import zstandard

    zs = zstandard.ZstdDecompressor().decompressobj()
    return lambda chunk: bytes(zs.decompress(chunk))


@pytest.fixture(params=["def", "async def"])
def install(request: pytest.FixtureRequest) -> Install:
    """Register the middleware as its def or its async def side."""

    def add(app: App, middleware: CompressionMiddleware) -> None:
        app.middleware(middleware if request.param == "def" else middleware.call_async)

    return add


def events() -> Iterator[str]:
    for n in range(3):
        yield f"event {n} " + "x" * 50


async def async_events() -> AsyncIterator[bytes]:
    for n in range(3):
        await asyncio.sleep(0)
        yield (f"event {n} " + "x" * 50).encode()


def build(install: Install, tmp_path: Path | None = None, **options: Any) -> App:
    app = App()
    install(app, CompressionMiddleware(**options))

    @app.get("/json")
    def json_document() -> dict[str, Any]:
        return DOCUMENT

    @app.get("/small")
    def small() -> dict[str, int]:
        return {"a": 1}

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse(TEXT)

    @app.get("/big")
    def big() -> Response:
        return Response(BIG, media_type="application/json")

    @app.get("/png")
    def png() -> Response:
        return Response(b"\x89PNG" + b"\0" * 2000, media_type="image/png")

    @app.get("/untyped")
    def untyped() -> Response:
        return Response(TEXT.encode())

    @app.get("/encoded")
    def encoded() -> Response:
        return Response(
            gzip.compress(TEXT.encode()),
            media_type="text/plain",
            headers={"content-encoding": "gzip"},
        )

    @app.get("/no-transform")
    def no_transform() -> PlainTextResponse:
        return PlainTextResponse(TEXT, headers={"cache-control": "public, no-transform"})

    @app.get("/partial")
    def partial() -> PlainTextResponse:
        return PlainTextResponse(
            TEXT, status_code=206, headers={"content-range": f"bytes 0-{len(TEXT) - 1}/9999"}
        )

    @app.get("/status/{code}")
    def status(code: int) -> Response:
        return Response(
            TEXT.encode() if code not in (204, 304) else b"", code, media_type="text/plain"
        )

    @app.get("/etag")
    def etag() -> PlainTextResponse:
        return PlainTextResponse(TEXT, headers={"etag": '"v1"', "vary": "Cookie"})

    @app.get("/weak-etag")
    def weak_etag() -> PlainTextResponse:
        return PlainTextResponse(TEXT, headers={"etag": 'W/"v1"'})

    @app.get("/vendor")
    def vendor() -> Response:
        return Response(TEXT.encode(), media_type="application/vnd.api+json; charset=utf-8")

    @app.get("/random")
    def random_bytes() -> Response:
        return Response(os.urandom(4000), media_type="text/plain")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(events(), media_type="text/plain")

    @app.get("/astream")
    async def astream() -> StreamingResponse:
        return StreamingResponse(async_events(), media_type="application/x-ndjson")

    @app.get("/sse")
    def sse() -> EventSourceResponse:
        return EventSourceResponse(f"event {n} " + "x" * 50 for n in range(3))

    if tmp_path is not None:
        path = tmp_path / "page.html"
        path.write_text(TEXT)
        tiny = tmp_path / "tiny.txt"
        tiny.write_text("hi")

        @app.get("/file")
        def file() -> FileResponse:
            return FileResponse(path)

        @app.get("/tiny-file")
        def tiny_file() -> FileResponse:
            return FileResponse(tiny)

    return app


def raw_get(
    client: httpx.Client, path: str, accept: str | None = "gzip", method: str = "GET"
) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (httpx would otherwise decode it)."""
    request = client.build_request(method, path)
    if accept is None:
        del request.headers["accept-encoding"]
    else:
        request.headers["accept-encoding"] = accept
    response = client.send(request, stream=True)
    try:
        return response, b"".join(response.iter_raw())
    finally:
        response.close()


def vary(response: httpx.Response) -> list[str]:
    return [v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()]


CODINGS = [
    pytest.param("gzip", id="gzip"),
    pytest.param("br", marks=needs_br, id="br"),
    pytest.param("zstd", marks=needs_zstd, id="zstd"),
]


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize(
    ("path", "original"),
    [
        ("/json", JSONResponse(DOCUMENT).body),
        ("/text", TEXT.encode()),
        ("/big", BIG),
    ],
)
def test_compresses_with_the_chosen_coding(
    make_client: MakeClient, install: Install, coding: str, path: str, original: bytes
) -> None:
    with make_client(build(install)) as client:
        response, raw = raw_get(client, path, coding)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == coding
    assert vary(response) == ["accept-encoding"]
    assert int(response.headers["content-length"]) == len(raw) < len(original)
    assert decompress(coding, raw) == original


def test_httpx_decodes_what_it_asked_for(make_client: MakeClient, install: Install) -> None:
    with make_client(build(install)) as client:
        response = client.get("/json")  # httpx's own Accept-Encoding
    assert response.headers["content-encoding"] in available_encodings()
    assert response.json() == DOCUMENT


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/small", "below minimum_size"),
        ("/png", "media type not listed"),
        ("/untyped", "no media type"),
        ("/no-transform", "Cache-Control: no-transform"),
        ("/partial", "a 206 part"),
        ("/status/204", "no content"),
        ("/status/304", "not modified"),
    ],
)
def test_ineligible_responses_are_untouched(
    make_client: MakeClient, install: Install, path: str, why: str
) -> None:
    with make_client(build(install)) as client:
        response, _ = raw_get(client, path)
    assert "content-encoding" not in response.headers, why
    assert "accept-encoding" not in vary(response), why


def test_already_encoded_responses_are_untouched(make_client: MakeClient, install: Install) -> None:
    with make_client(build(install)) as client:
        response, raw = raw_get(client, "/encoded", "gzip, br, zstd")
    assert response.headers.get_list("content-encoding") == ["gzip"]
    assert gzip.decompress(raw) == TEXT.encode()


@pytest.mark.parametrize("status", [201, 404, 500])
def test_other_statuses_are_compressed(
    make_client: MakeClient, install: Install, status: int
) -> None:
    with make_client(build(install)) as client:
        response, raw = raw_get(client, f"/status/{status}")
    assert response.status_code == status
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == TEXT.encode()


@pytest.mark.parametrize(
    "accept",
    [None, "", "identity", "gzip;q=0", "br;q=0, zstd;q=0, gzip;q=0", "*;q=0", "compress, deflate"],
)
def test_clients_that_refuse_get_identity_and_vary(
    make_client: MakeClient, install: Install, accept: str | None
) -> None:
    with make_client(build(install)) as client:
        response, raw = raw_get(client, "/text", accept)
    assert "content-encoding" not in response.headers
    assert raw == TEXT.encode()
    # The same URL is compressed for other clients: caches must key on Accept-Encoding.
    assert vary(response) == ["accept-encoding"]


def test_head_has_the_headers_get_has(make_client: MakeClient, install: Install) -> None:
    with make_client(build(install)) as client:
        got, raw = raw_get(client, "/json")
        head, nothing = raw_get(client, "/json", method="HEAD")
    assert nothing == b""
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(raw))
    assert vary(head) == vary(got) == ["accept-encoding"]


def test_strong_etags_become_weak(make_client: MakeClient, install: Install) -> None:
    with make_client(build(install)) as client:
        compressed, _ = raw_get(client, "/etag")
        identity, _ = raw_get(client, "/etag", "identity")
        weak, _ = raw_get(client, "/weak-etag")
    assert compressed.headers["etag"] == 'W/"v1"'
    assert identity.headers["etag"] == '"v1"'
    assert weak.headers["etag"] == 'W/"v1"'
    assert compressed.headers["vary"] == "Cookie, Accept-Encoding"


def test_a_body_that_would_grow_is_sent_as_is(make_client: MakeClient, install: Install) -> None:
    with make_client(build(install)) as client:
        response, raw = raw_get(client, "/random")
    assert "content-encoding" not in response.headers
    assert len(raw) == 4000 == int(response.headers["content-length"])
    assert vary(response) == ["accept-encoding"]


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("path", ["/stream", "/astream", "/sse"])
def test_streams_are_compressed(
    make_client: MakeClient, install: Install, coding: str, path: str
) -> None:
    with make_client(build(install)) as client:
        response, raw = raw_get(client, path, coding)
        _, expected = raw_get(client, path, "identity")
    assert response.headers["content-encoding"] == coding
    assert "content-length" not in response.headers
    assert vary(response) == ["accept-encoding"]
    assert decompress(coding, raw) == expected
    assert b"event 2" in expected


def test_head_of_a_stream(make_client: MakeClient, install: Install) -> None:
    with make_client(build(install)) as client:
        response, raw = raw_get(client, "/stream", method="HEAD")
    assert raw == b""
    assert response.headers["content-encoding"] == "gzip"


def test_files_are_compressed_and_small_files_are_not(
    make_client: MakeClient, install: Install, tmp_path: Path
) -> None:
    with make_client(build(install, tmp_path)) as client:
        response, raw = raw_get(client, "/file")
        tiny, tiny_raw = raw_get(client, "/tiny-file")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert gzip.decompress(raw) == TEXT.encode()
    assert "content-encoding" not in tiny.headers
    assert tiny_raw == b"hi"
    assert tiny.headers["content-length"] == "2"


def test_file_wrapper_does_not_bypass_compression(install: Install, tmp_path: Path) -> None:
    """Servers send a FileResponse's file themselves; a compressed one must not be."""
    app = build(install, tmp_path)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/file",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.file_wrapper": FileWrapper,
    }
    headers: list[tuple[str, str]] = []
    body = app.wsgi(environ, lambda status, sent, exc_info=None: headers.extend(sent))
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    assert not isinstance(body, FileWrapper)
    assert ("content-encoding", "gzip") in headers
    assert gzip.decompress(data) == TEXT.encode()


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("path", ["/sse", "/astream"])
def test_each_streamed_chunk_is_flushed_asgi(install: Install, coding: str, path: str) -> None:
    """Every chunk sent decodes at once to a whole event: nothing waits in the compressor."""
    app = build(install)
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "root_path": "",
        "headers": [(b"accept-encoding", coding.encode())],
    }

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(app.asgi(scope, receive, send))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        app.thread_pool.shutdown()
    assert (b"content-encoding", coding.encode()) in sent[0]["headers"]
    feed = incremental(coding)
    decoded = [feed(message["body"]) for message in sent[1:] if message["body"]]
    assert [b"event" in piece for piece in decoded[:3]] == [True, True, True]
    for n, piece in enumerate(decoded[:3]):
        assert f"event {n}".encode() in piece


@pytest.mark.parametrize("path", ["/sse", "/stream", "/astream"])
def test_each_streamed_chunk_is_flushed_wsgi(install: Install, path: str) -> None:
    app = build(install)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
    }
    body = app.wsgi(environ, lambda status, headers, exc_info=None: None)
    feed = incremental("gzip")
    try:
        decoded = [feed(chunk) for chunk in body]
    finally:
        getattr(body, "close", lambda: None)()
    for n in range(3):
        assert f"event {n}".encode() in decoded[n]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip", "gzip"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip, br", "br"),
        ("gzip, br, zstd", "zstd"),
        ("br;q=1, zstd;q=1.0, gzip", "zstd"),
        ("gzip;q=0.5, br;q=0.9", "br"),
        ("gzip;q=1, br;q=0.999", "gzip"),
        ("zstd;q=0, *", "br"),
        ("*", "zstd"),
        ("*;q=0.1, gzip;q=0.5", "gzip"),
        ("*;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("gzip;q=0.000", None),
        ("identity", None),
        ("gzip;q=0.5, identity", None),
        ("gzip, identity", "gzip"),
        ("gzip;q=0.5, identity;q=0.5", "gzip"),
        ("gzip;q=2", None),
        ("gzip;q=0.1234", None),
        ("gzip;q=abc, br", "br"),
        ("gzip ; q=0.3 , deflate", "gzip"),
        ("compress, deflate", None),
        ("", None),
        (",,, ;q=1", None),
        (None, None),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate_encoding(accept, ("zstd", "br", "gzip")) == expected


def test_server_order_breaks_ties() -> None:
    assert negotiate_encoding("gzip, br", ("gzip", "br")) == "gzip"
    assert negotiate_encoding("gzip, br", ("br", "gzip")) == "br"


def test_encodings_limit_what_is_offered(make_client: MakeClient, install: Install) -> None:
    with make_client(build(install, encodings=["gzip"])) as client:
        response, _ = raw_get(client, "/text", "zstd, br, gzip;q=0.1")
    assert response.headers["content-encoding"] == "gzip"


def test_custom_media_types_and_minimum_size(make_client: MakeClient, install: Install) -> None:
    app = build(install, minimum_size=0, media_types=["application/*+json", "image/png"])
    with make_client(app) as client:
        png, _ = raw_get(client, "/png")
        text, _ = raw_get(client, "/text")
        vendor, _ = raw_get(client, "/vendor")
        json, _ = raw_get(client, "/json")
    assert png.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in text.headers
    assert vendor.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in json.headers


def test_available_encodings_follow_installed_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compression_module, "_brotli_module", lambda: None)
    monkeypatch.setattr(compression_module, "_zstd_module", lambda: None)
    assert available_encodings() == ("gzip",)
    assert CompressionMiddleware().encodings == ("gzip",)
    with pytest.raises(ValueError, match="needs the brotli"):
        CompressionMiddleware(encodings=["br", "gzip"])
    with pytest.raises(ValueError, match="needs the zstandard"):
        CompressionMiddleware(encodings=["zstd"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"encodings": ["deflate"]}, "unknown content coding"),
        ({"encodings": []}, "at least one"),
        ({"minimum_size": -1}, "minimum_size"),
        ({"media_types": ["json"]}, "is not 'type/sub'"),
        ({"media_types": ["*/json"]}, "is not 'type/sub'"),
    ],
)
def test_configuration_mistakes_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CompressionMiddleware(**options)


codings = st.sampled_from(["gzip", "br", "zstd", "identity", "*", "deflate"])
weights = st.sampled_from(["", ";q=0", ";q=0.001", ";q=0.5", ";q=1", " ; Q=0.50"])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(codings, weights), max_size=6, unique_by=lambda p: p[0]))
def test_negotiation_picks_a_most_preferred_acceptable_coding(
    parts: list[tuple[str, str]],
) -> None:
    offers = ("zstd", "br", "gzip")
    header = ", ".join(coding + weight for coding, weight in parts)
    q = {coding: float(weight.split("=")[1]) if weight else 1.0 for coding, weight in parts}

    def weight_of(coding: str) -> float:
        return q.get(coding, q.get("*", 0.0))

    best = max(weight_of(coding) for coding in offers)
    choice = negotiate_encoding(header, offers)
    if choice is None:
        assert best == 0 or q.get("identity", -1.0) > best
    else:
        assert weight_of(choice) == best > 0
        assert q.get("identity", -1.0) <= best


@pytest.mark.parametrize("path", ["/json", "/stream", "/astream", "/sse", "/small"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_wsgi_compliance(install: Install, path: str, method: str) -> None:
    app = build(install)
    with TestClient(app, "wsgi", validate_wsgi=True) as client:
        response = client.request(method, path, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
