"""The app tests/e2e/test_caching_served.py serves: ETags on every GET route, 2 workers."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from duoweb import App, Request, Response
from duoweb.caching import cache_control
from duoweb.compression import CompressionMiddleware

app = App(etag=True)


@app.middleware
def worker_header(request: Request, call_next: Callable[[Request], Response]) -> Response:
    """Say which worker answered (outside the route's caching: its 304s say it too)."""
    response = call_next(request)
    response.set_header("x-worker", str(os.getpid()))
    return response


app.middleware(CompressionMiddleware())


@app.get("/")
def index() -> int:
    return 1


@app.get("/catalog/{page}", cache_control=cache_control(public=True, max_age=60))
def catalog(page: int) -> list[dict[str, object]]:
    time.sleep(0.05)  # long enough for concurrent requests to reach both workers
    return [{"sku": page * 100 + n, "title": f"product {n}"} for n in range(100)]
