"""``module:app`` under every server: each serves the same App in the protocol it speaks.

Gunicorn (sync), Granian's WSGI interface, Hypercorn, uvicorn, Granian's ASGI interface and
Gunicorn with the uvicorn-worker package are all given the plain ``module:app``, with no
suffix and no ``asgi:`` prefix. Each must run it in its own protocol (WSGI servers build
``WSGIRequest``s, ASGI servers ``ASGIRequest``s and carry WebSockets). Granian's default
interface, RSGI, is one duoweb does not speak: the server must stop at startup, saying how to
run it instead, and never answer a request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from websockets.sync.client import connect

from tests.e2e.servers import ROOT, free_port, serve

pytestmark = pytest.mark.e2e

TARGET = "tests.e2e.websocket_app:app"
SERVERS = [
    ("gunicorn", "WSGIRequest"),
    ("granian-wsgi", "WSGIRequest"),
    ("hypercorn", "ASGIRequest"),
    ("uvicorn", "ASGIRequest"),
    ("granian-asgi", "ASGIRequest"),
    ("gunicorn-uvicorn", "ASGIRequest"),
]
ASGI_SERVERS = [server for server, kind in SERVERS if kind == "ASGIRequest"]


@pytest.fixture(scope="module", params=SERVERS, ids=[server for server, _ in SERVERS])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    server, expected = request.param
    with serve(server, TARGET, workers=1) as base:
        yield server, base, expected


@pytest.mark.parametrize("path", ["/protocol", "/protocol-async"])
def test_plain_module_app_is_served_in_the_servers_protocol(
    served: tuple[str, str, str], path: str
) -> None:
    _, base, expected = served
    response = httpx.get(base + path, timeout=10)
    assert response.status_code == 200
    assert response.json() == expected


def test_websockets_over_the_wire(served: tuple[str, str, str]) -> None:
    server, base, _ = served
    if server not in ASGI_SERVERS:
        pytest.skip(f"{server} speaks WSGI, which has no WebSockets")
    url = base.replace("http://", "ws://")
    with connect(url + "/echo/main") as ws:
        ws.send("over the wire")
        assert ws.recv(timeout=10) == "main: over the wire"
    with connect(url + "/moves") as ws:
        ws.send('{"x": 40, "y": 2}')
        reply: Any = msgspec.json.decode(ws.recv(timeout=10))
        assert reply == {"sum": 42}


def test_granian_rsgi_is_refused_at_startup() -> None:
    port = free_port()
    argv = [sys.executable, "-m", "granian", "--host", "127.0.0.1", "--port", str(port), TARGET]
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "UnsupportedInterfaceError" in output
    assert "granian --interface asgi" in output
