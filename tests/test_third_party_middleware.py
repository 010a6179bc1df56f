"""Standard WSGI middleware wraps app.wsgi, standard ASGI middleware wraps app.asgi.

The packages are real, widely used ones: Werkzeug's ProxyFix and DispatcherMiddleware for
WSGI; Uvicorn's ProxyHeadersMiddleware and Starlette's GZip and TrustedHost middleware for
ASGI. They are test-only dependencies; each test is skipped when its package is missing.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx
import pytest

from duoweb import App, Request, StreamingResponse
from duoweb.testing import ASGITransport, WSGITransport


def build() -> tuple[App, list[str]]:
    app = App()
    events: list[str] = []

    @app.on_startup
    def started() -> None:
        events.append("startup")

    @app.on_shutdown
    def stopped() -> None:
        events.append("shutdown")

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        return {
            "client": request.client[0] if request.client else None,
            "scheme": request.scheme,
            "url": request.url,
            "path": request.path,
            "root_path": request.root_path,
        }

    @app.get("/report")
    def report() -> dict[str, str]:
        return {"text": "compress me " * 200}

    @app.get("/lines")
    def lines() -> StreamingResponse:
        def produce() -> Iterator[str]:
            for n in range(50):
                yield f"line {n} of a streamed body\n"

        return StreamingResponse(produce(), media_type="text/plain")

    return app, events


def wsgi_client(wsgi_app: Callable[..., Any]) -> httpx.Client:
    return httpx.Client(
        transport=WSGITransport(wsgi_app, client=("10.0.0.2", 40000), validate=True),
        base_url="http://testserver",
    )


def asgi_client(asgi_app: Callable[..., Any], loop: asyncio.AbstractEventLoop) -> httpx.Client:
    return httpx.Client(
        transport=ASGITransport(asgi_app, loop, client=("10.0.0.2", 40000)),
        base_url="http://testserver",
    )


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    try:
        yield event_loop
    finally:
        event_loop.close()


FORWARDED = {
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.example.com",
}


# --- WSGI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["app.wsgi", "app"])
def test_werkzeug_proxy_fix(target: str) -> None:
    proxy_fix = pytest.importorskip("werkzeug.middleware.proxy_fix")
    app, _ = build()
    wrapped = proxy_fix.ProxyFix(
        app.wsgi if target == "app.wsgi" else app, x_for=1, x_proto=1, x_host=1
    )
    with wsgi_client(wrapped) as client:
        behind_proxy = client.get("/whoami", headers=FORWARDED).json()
        direct = client.get("/whoami").json()
    assert behind_proxy["client"] == "203.0.113.7"
    assert behind_proxy["scheme"] == "https"
    assert behind_proxy["url"] == "https://api.example.com/whoami"
    assert direct["client"] == "10.0.0.2"
    assert direct["scheme"] == "http"
    app.wsgi.stop()


def test_werkzeug_dispatcher_mounts_the_app_under_a_prefix() -> None:
    dispatcher = pytest.importorskip("werkzeug.middleware.dispatcher")
    app, _ = build()

    def legacy(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"legacy"]

    wrapped = dispatcher.DispatcherMiddleware(legacy, {"/api": app.wsgi})
    with wsgi_client(wrapped) as client:
        mounted = client.get("/api/whoami").json()
        other = client.get("/elsewhere")
    assert mounted["path"] == "/whoami"
    assert mounted["root_path"] == "/api"
    assert mounted["url"] == "http://testserver/api/whoami"
    assert other.text == "legacy"
    app.wsgi.stop()


# --- ASGI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["app.asgi", "app"])
def test_uvicorn_proxy_headers(target: str, loop: asyncio.AbstractEventLoop) -> None:
    proxy_headers = pytest.importorskip("uvicorn.middleware.proxy_headers")
    app, _ = build()
    wrapped = proxy_headers.ProxyHeadersMiddleware(
        cast(Any, app.asgi if target == "app.asgi" else app), trusted_hosts=["10.0.0.2"]
    )
    with asgi_client(wrapped, loop) as client:
        behind_proxy = client.get("/whoami", headers=FORWARDED).json()
    assert behind_proxy["client"] == "203.0.113.7"
    assert behind_proxy["scheme"] == "https"
    loop.run_until_complete(app.run_shutdown_async())


def test_lifespan_passes_through_asgi_middleware(loop: asyncio.AbstractEventLoop) -> None:
    proxy_headers = pytest.importorskip("uvicorn.middleware.proxy_headers")
    app, events = build()
    wrapped = proxy_headers.ProxyHeadersMiddleware(cast(Any, app.asgi))
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def lifespan() -> list[str]:
        task = asyncio.ensure_future(
            wrapped({"type": "lifespan", "asgi": {"version": "3.0"}}, to_app.get, from_app.put)
        )
        replies = []
        for event in ("lifespan.startup", "lifespan.shutdown"):
            await to_app.put({"type": event})
            replies.append((await from_app.get())["type"])
        await task
        return replies

    replies = loop.run_until_complete(lifespan())
    assert replies == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["startup", "shutdown"]


@pytest.mark.parametrize("path", ["/report", "/lines"])
def test_starlette_gzip(path: str, loop: asyncio.AbstractEventLoop) -> None:
    starlette_gzip = pytest.importorskip("starlette.middleware.gzip")
    app, _ = build()
    wrapped = starlette_gzip.GZipMiddleware(cast(Any, app.asgi), minimum_size=100)
    with asgi_client(wrapped, loop) as client:
        request = client.build_request("GET", path, headers={"accept-encoding": "gzip"})
        response = client.send(request, stream=True)
        raw = b"".join(response.iter_raw())
        response.close()
        plain = client.get(path, headers={"accept-encoding": "identity"})
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content)
    loop.run_until_complete(app.run_shutdown_async())


def test_starlette_trusted_host(loop: asyncio.AbstractEventLoop) -> None:
    trustedhost = pytest.importorskip("starlette.middleware.trustedhost")
    app, _ = build()
    wrapped = trustedhost.TrustedHostMiddleware(cast(Any, app.asgi), allowed_hosts=["testserver"])
    with asgi_client(wrapped, loop) as client:
        assert client.get("/whoami").status_code == 200
        assert client.get("/whoami", headers={"host": "evil.example"}).status_code == 400
    loop.run_until_complete(app.run_shutdown_async())
