"""How servers call the App: WSGI, ASGI 3, ASGI 2, and the conventions refused at startup.

Uvicorn and Hypercorn choose a protocol by inspecting ``app.__call__``; these tests ask them
(their own detection functions) and ``inspect`` what they see, and drive each convention
in-process with a ``def`` and an ``async def`` handler.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import sys
from typing import Any

import httpx
import pytest
from hypercorn.utils import is_asgi
from uvicorn.config import Config
from uvicorn.middleware.asgi2 import ASGI2Middleware

from duoweb import App
from duoweb.errors import UnsupportedInterfaceError

app = App()


@app.get("/sync")
def sync_handler() -> dict[str, str]:
    return {"kind": "def"}


@app.get("/async")
async def async_handler() -> dict[str, str]:
    return {"kind": "async def"}


PATHS = [("/sync", "def"), ("/async", "async def")]


def test_inspect_sees_an_asgi3_coroutine_function() -> None:
    assert inspect.iscoroutinefunction(app.__call__)
    assert list(inspect.signature(app.__call__).parameters) == ["scope", "receive", "send"]
    # The class's __call__, which calls run, stays a plain function.
    assert not inspect.iscoroutinefunction(App.__call__)


def test_hypercorn_detects_asgi() -> None:
    assert is_asgi(app)


def test_uvicorn_detects_asgi3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "calling_conventions_app", sys.modules[__name__])
    config = Config("calling_conventions_app:app")
    config.load()
    assert config.interface == "asgi3"


def _wsgi_get(call: Any, path: str) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    body = b"".join(call(environ, start_response))
    return statuses[0], body


@pytest.mark.parametrize(("path", "kind"), PATHS)
def test_called_with_two_arguments_it_is_wsgi(path: str, kind: str) -> None:
    assert _wsgi_get(app, path) == ("200 OK", f'{{"kind":"{kind}"}}'.encode())
    # The bound attribute servers inspect serves WSGI too when called.
    assert _wsgi_get(app.__call__, path) == ("200 OK", f'{{"kind":"{kind}"}}'.encode())


async def _asgi_get(asgi3: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=asgi3)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


@pytest.mark.parametrize(("path", "kind"), PATHS)
def test_called_with_three_arguments_it_is_asgi3(path: str, kind: str) -> None:
    response = asyncio.run(_asgi_get(app, path))
    assert (response.status_code, response.json()) == (200, {"kind": kind})


@pytest.mark.parametrize(("path", "kind"), PATHS)
def test_called_with_one_argument_it_is_asgi2(path: str, kind: str) -> None:
    # uvicorn --interface asgi2: app(scope) gives the instance, then instance(receive, send).
    asgi2: Any = app  # uvicorn types its ASGI 2 apps as classes
    response = asyncio.run(_asgi_get(ASGI2Middleware(asgi2), path))
    assert (response.status_code, response.json()) == (200, {"kind": kind})


@pytest.mark.parametrize("count", [0, 4])
def test_other_argument_counts_are_a_clear_type_error(count: int) -> None:
    loose: Any = app
    with pytest.raises(TypeError, match=rf"2 arguments \(WSGI\), 3 \(ASGI 3\).*not {count}"):
        loose(*([None] * count))


def test_granian_rsgi_is_refused_when_a_worker_starts() -> None:
    with pytest.raises(UnsupportedInterfaceError, match="granian --interface asgi"):
        app.__rsgi_init__(object())
