"""The reference app with one operations feature on, chosen by ``DUOWEB_BENCH_VARIANT``.

``plain`` is the reference app itself; ``metrics`` adds ``enable_metrics``; ``etag`` adds
``ETagMiddleware`` app-wide; ``noop`` adds a middleware that only calls the next one (what any
middleware layer costs). The ETag fast path is compared on a smaller app of the three fixed
routes: ``small`` is that app as it is, ``etag-route`` registers them with ``etag=True``,
``etag-app`` turns ETags on with ``App(etag=True)``.
"""

from __future__ import annotations

import os
from typing import Any

from duoweb import App, PlainTextResponse

VARIANT = os.environ.get("DUOWEB_BENCH_VARIANT", "plain")


def _small_app(*, app_etag: bool, route_etag: bool) -> App:
    """The three fixed routes alone: ETags from the App, from each route, or not at all."""
    app = App(etag=True) if app_etag else App()
    options: dict[str, Any] = {"inline": True}
    if route_etag:
        options["etag"] = True

    @app.get("/plaintext", **options)
    def plaintext() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    @app.get("/json", **options)
    def json() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/api/v1/r87/{id}", **options)
    def numbered(id: int) -> dict[str, int]:
        return {"route": 87, "id": id}

    return app


def _build() -> Any:
    if VARIANT in ("small", "etag-route", "etag-app"):
        return _small_app(app_etag=VARIANT == "etag-app", route_etag=VARIANT == "etag-route")
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
