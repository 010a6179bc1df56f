"""An app with metrics, rate limits (in Redis when DUOWEB_REDIS_URL is set) and health routes.

Served by tests/e2e/test_operations_served.py under Gunicorn and Hypercorn with 2 workers.
"""

from __future__ import annotations

import os
import time
from typing import Annotated

from duoweb import App, Depends
from duoweb.health import Health
from duoweb.metrics import enable_metrics
from duoweb.ratelimit import RateLimiter, RateLimitHeadersMiddleware, rate_limit

app = App()
metrics = enable_metrics(app)
app.middleware(RateLimitHeadersMiddleware())
Health(app)

limiter = RateLimiter(
    os.environ.get("DUOWEB_REDIS_URL", "memory://"),
    prefix=os.environ.get("DUOWEB_LIMIT_PREFIX", "e2e"),
)
limited = rate_limit("10/minute", limiter=limiter)


@app.get("/")
def index() -> int:
    """The worker's process id: tells which worker answered."""
    return os.getpid()


@app.get("/items/{item_id}")
def item(item_id: int) -> dict[str, int]:
    """A parametrised route, for the route-template label."""
    return {"id": item_id, "pid": os.getpid()}


@app.get("/limited")
def limited_route(_: Annotated[None, Depends(limited)]) -> int:
    """Ten requests a minute per client, counted across every worker."""
    time.sleep(0.05)  # keeps a sync worker busy, so concurrent requests reach the other one
    return os.getpid()


@app.get("/slow")
def slow() -> int:
    """Holds its worker for a moment, so that concurrent requests reach every worker."""
    time.sleep(0.3)
    return os.getpid()
