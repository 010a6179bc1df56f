"""The reference app with one operations feature on, chosen by ``DUOWEB_BENCH_VARIANT``.

``plain`` is the reference app itself; ``metrics`` adds ``enable_metrics``; ``etag`` adds
``ETagMiddleware`` app-wide; ``etag-route`` registers the fixed routes with ``etag=True``;
``noop`` adds a middleware that only calls the next one (what any middleware layer costs).
"""

from __future__ import annotations

import os
from typing import Any

from duoweb import App, PlainTextResponse

VARIANT = os.environ.get("DUOWEB_BENCH_VARIANT", "plain")


def _etag_routes() -> App:
    app = App()

    @app.get("/plaintext", inline=True, etag=True)
    def plaintext() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    @app.get("/json", inline=True, etag=True)
    def json() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/api/v1/r87/{id}", inline=True, etag=True)
    def numbered(id: int) -> dict[str, int]:
        return {"route": 87, "id": id}

    return app


def _build() -> Any:
    if VARIANT == "etag-route":
        return _etag_routes()
    from benchmarks.app import app

    if VARIANT == "metrics":
        from duoweb.metrics import enable_metrics

        enable_metrics(app)
    elif VARIANT == "etag":
        from duoweb.caching import ETagMiddleware

        app.middleware(ETagMiddleware())
    elif VARIANT == "noop":  # the cost of any middleware layer, for comparison
        app.middleware(lambda request, call_next: call_next(request))
    elif VARIANT != "plain":
        raise ValueError(f"unknown DUOWEB_BENCH_VARIANT {VARIANT!r}")
    return app


app = _build()
wsgi = app.wsgi
asgi = app.asgi
