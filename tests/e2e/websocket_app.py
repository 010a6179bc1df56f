"""The WebSocket test app, served by every server in the end-to-end tests.

Besides the WebSocket routes of tests/test_websockets.py it says which protocol served each
request, so a test can tell that a server ran the App in the mode it speaks.
"""

from __future__ import annotations

from duoweb import Request
from tests.test_websockets import build_app

app = build_app([])


@app.get("/")
def index() -> str:
    """Readiness probe for the test harness."""
    return "ready"


@app.get("/protocol")
def protocol(request: Request) -> str:
    """The request class the protocol adapter built: WSGIRequest or ASGIRequest."""
    return type(request).__name__


@app.get("/protocol-async")
async def protocol_async(request: Request) -> str:
    """The same, from an ``async def`` handler."""
    return type(request).__name__
