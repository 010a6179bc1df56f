"""Middleware written once: def or async def, in both modes, with contextvars and errors."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest

from duoweb import App, HTTPError, JSONResponse, Request, Response
from tests.conftest import MakeClient

user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="anonymous")

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


def sync_tagger(name: str, log: list[str]) -> Callable[[Request, SyncNext], Response]:
    def middleware(request: Request, call_next: SyncNext) -> Response:
        log.append(f"{name} in")
        response = call_next(request)
        log.append(f"{name} out")
        response.append_header("x-trail", name)
        return response

    return middleware


def async_tagger(name: str, log: list[str]) -> Callable[[Request, AsyncNext], Awaitable[Response]]:
    async def middleware(request: Request, call_next: AsyncNext) -> Response:
        log.append(f"{name} in")
        response = await call_next(request)
        log.append(f"{name} out")
        response.append_header("x-trail", name)
        return response

    return middleware


def build_app(kinds: str, log: list[str]) -> App:
    app = App()
    for index, kind in enumerate(kinds):
        tagger = sync_tagger if kind == "s" else async_tagger
        app.middleware(tagger(f"{kind}{index}", log))

    @app.get("/sync")
    def sync_handler() -> str:
        log.append("handler")
        return user.get()

    @app.get("/async")
    async def async_handler() -> str:
        log.append("handler")
        return user.get()

    return app


@pytest.mark.parametrize("kinds", ["s", "a", "ss", "aa", "sa", "as", "sas"])
@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_order_is_explicit_in_every_combination(
    make_client: MakeClient, kinds: str, path: str
) -> None:
    log: list[str] = []
    with make_client(build_app(kinds, log)) as client:
        response = client.get(path)
    names = [f"{kind}{index}" for index, kind in enumerate(kinds)]
    assert log == [f"{n} in" for n in names] + ["handler"] + [f"{n} out" for n in reversed(names)]
    # The innermost middleware touched the response first.
    assert response.headers.get_list("x-trail") == list(reversed(names))


def setter_sync(request: Request, call_next: SyncNext) -> Response:
    user.set(request.headers.get("x-user", "nobody"))
    return call_next(request)


async def setter_async(request: Request, call_next: AsyncNext) -> Response:
    user.set(request.headers.get("x-user", "nobody"))
    return await call_next(request)


@pytest.mark.parametrize("setter", [setter_sync, setter_async], ids=["def", "async def"])
@pytest.mark.parametrize("outer", ["none", "s", "a"])
@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_contextvars_set_in_middleware_reach_the_handler(
    make_client: MakeClient, setter: Any, outer: str, path: str
) -> None:
    log: list[str] = []
    app = build_app("" if outer == "none" else outer, log)
    app.middleware(setter)
    with make_client(app) as client:
        assert client.get(path, headers={"x-user": "ada"}).json() == "ada"
        assert client.get(path).json() == "nobody"


@pytest.mark.parametrize("kind", ["s", "a"])
def test_short_circuit(make_client: MakeClient, kind: str) -> None:
    app = App()
    reached: list[str] = []

    if kind == "s":

        @app.middleware
        def guard(request: Request, call_next: SyncNext) -> Response:
            if "x-key" not in request.headers:
                return JSONResponse({"error": "no key"}, status_code=401)
            return call_next(request)
    else:

        @app.middleware
        async def guard_async(request: Request, call_next: AsyncNext) -> Response:
            if "x-key" not in request.headers:
                return JSONResponse({"error": "no key"}, status_code=401)
            return await call_next(request)

    @app.get("/")
    def index() -> str:
        reached.append("yes")
        return "ok"

    with make_client(app) as client:
        assert client.get("/").status_code == 401
        assert reached == []
        assert client.get("/", headers={"x-key": "1"}).json() == "ok"


@pytest.mark.parametrize("kind", ["s", "a"])
def test_middleware_exceptions_become_problems(make_client: MakeClient, kind: str) -> None:
    app = App()

    if kind == "s":

        @app.middleware
        def broken(request: Request, call_next: SyncNext) -> Response:
            if request.path == "/http":
                raise HTTPError(403, "forbidden by middleware")
            raise RuntimeError("middleware bug")
    else:

        @app.middleware
        async def broken_async(request: Request, call_next: AsyncNext) -> Response:
            if request.path == "/http":
                raise HTTPError(403, "forbidden by middleware")
            raise RuntimeError("middleware bug")

    with make_client(app) as client:
        forbidden = client.get("/http")
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"] == "application/problem+json"
        crash = client.get("/other")
        assert crash.status_code == 500
        assert "middleware bug" not in crash.text


def test_middleware_sees_handler_errors_and_404_as_responses(make_client: MakeClient) -> None:
    app = App()
    seen: list[int] = []

    @app.middleware
    def record(request: Request, call_next: SyncNext) -> Response:
        response = call_next(request)
        seen.append(response.status_code)
        return response

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("x")

    with make_client(app) as client:
        client.get("/boom")
        client.get("/missing")
        client.post("/boom")
    assert seen == [500, 404, 405]


def test_middleware_must_return_a_response(make_client: MakeClient) -> None:
    app = App()

    @app.middleware
    def wrong(request: Request, call_next: SyncNext) -> Any:
        return "not a response"

    with make_client(app) as client:
        assert client.get("/").status_code == 500


def test_headers_added_to_a_no_content_answer_stay_with_its_request(
    make_client: MakeClient,
) -> None:
    app = App()

    @app.middleware
    def tag(request: Request, call_next: SyncNext) -> Response:
        response = call_next(request)
        if request.path == "/first":
            response.set_header("x-only-first", "yes")
        return response

    @app.delete("/first")
    def first() -> None:
        return None

    @app.delete("/second")
    async def second() -> None:
        return None

    with make_client(app) as client:
        assert client.delete("/first").headers["x-only-first"] == "yes"
        answer = client.delete("/second")
    assert answer.status_code == 204
    assert "x-only-first" not in answer.headers


class Note(msgspec.Struct):
    text: str


@pytest.mark.parametrize("handler_kind", ["def", "async def"])
def test_a_body_streamed_by_middleware_then_read_again_is_a_named_error_not_a_hang(
    make_client: MakeClient, handler_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()
    seen: list[bytes] = []

    @app.middleware
    async def digest(request: Request, call_next: AsyncNext) -> Response:
        async for chunk in request.receive_body_chunks(1 << 20):
            seen.append(chunk)
        return await call_next(request)

    if handler_kind == "def":

        @app.post("/echo")
        def echo_sync(note: Note) -> str:
            return note.text
    else:

        @app.post("/echo")
        async def echo_async(note: Note) -> str:
            return note.text

    with make_client(app) as client:
        answer = client.post("/echo", content=b'{"text": "hi"}')
    assert seen == [b'{"text": "hi"}']
    assert answer.status_code == 500  # the application's mistake, never the client's 400
    assert "a body can be read only once" in caplog.text


def test_a_def_middleware_reading_the_body_under_asgi_is_told_how(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()

    @app.middleware
    def measure(request: Request, call_next: SyncNext) -> Response:
        size = sum(len(chunk) for chunk in request.body_chunks(1 << 20))
        response = call_next(request)
        response.set_header("x-size", str(size))
        return response

    @app.post("/upload")
    def upload() -> None:
        return None

    with make_client(app) as client:
        answer = client.post("/upload", content=b"12345")
    if client.mode == "wsgi":
        assert answer.status_code == 204
        assert answer.headers["x-size"] == "5"
    else:
        assert answer.status_code == 500
        assert "receive_body_chunks" in caplog.text
