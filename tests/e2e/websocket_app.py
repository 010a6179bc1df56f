"""The WebSocket test app, served by Hypercorn in the end-to-end test."""

from __future__ import annotations

from tests.test_websockets import build_app

app = build_app([])


@app.get("/")
def index() -> str:
    """Readiness probe for the test harness."""
    return "ready"
