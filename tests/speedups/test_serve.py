"""The per-request path (WSGI call + sync dispatcher): both implementations serve alike."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duoweb import (
    App,
    BackgroundTasks,
    HTTPError,
    PlainTextResponse,
    Response,
    StreamingResponse,
    _messages,
)
from duoweb.wsgi import STATUS_LINES, WSGIAdapter, WSGIRequest
from tests.speedups.conftest import implementation

Answer = tuple[str, list[tuple[str, str]], bytes]


class Item(msgspec.Struct):
    """A validated body."""

    name: str
    price: float


#: What the background tasks of build_app's routes did, in order.
TASK_RUNS: list[int] = []


def build_app(*, middleware: bool = False) -> App:
    """An app with one route of each kind the dispatcher treats differently."""
    app = App(openapi_url=None, docs_url=None)

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/users/{user_id:int}")
    def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/search")
    def search(q: str, limit: int = 10) -> dict[str, Any]:
        return {"q": q, "limit": limit}

    @app.post("/items", max_body_size=64)
    def create(item: Item) -> Item:
        return item

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPError(418, "short and stout")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]), media_type="text/plain")

    @app.exception_handler(KeyError)
    def missing(request: Any, exc: KeyError) -> Response:
        return PlainTextResponse("no such key", status_code=404)

    @app.get("/keyerror")
    def keyerror() -> None:
        raise KeyError("x")

    @app.get("/tasks/{n:int}")  # direct, with a BackgroundTasks: the compiled call_with_tasks
    def with_tasks(n: int, tasks: BackgroundTasks) -> int:
        if n:
            tasks.add(TASK_RUNS.append, n)
        return n

    @app.get("/tasks")
    def without_params(tasks: BackgroundTasks) -> str:
        tasks.add(TASK_RUNS.append, 0)
        return "queued"

    if middleware:

        @app.middleware
        def tag(request: Any, call_next: Callable[[Any], Response]) -> Response:
            response = call_next(request)
            response.set_header("x-tag", "1")
            return response

    return app


def dispatcher_of(impl: ModuleType, app: App) -> Any:
    """A dispatcher of ``impl`` over the same routes, middleware and error handling as ``app``."""
    chosen = app.dispatcher
    return impl.Dispatcher(
        chosen.router,
        chosen.middleware,
        chosen.errors,
        chosen.unrouted,
        chosen.pool,
        chosen.max_path_length,
    )


def adapter_class(impl: ModuleType) -> type[Any]:
    """``WSGIAdapter``'s lifecycle over ``impl``'s core (the real adapter uses the chosen one)."""
    if impl.__name__.startswith(
        "duoweb._speedups"
    ) and not _messages.RequestCore.__module__.startswith("duoweb._speedups"):
        pytest.skip("the compiled request path needs the compiled request core")

    class Adapter(impl.WSGICore):  # type: ignore[misc,name-defined]
        start_or_refuse = WSGIAdapter.start_or_refuse
        _start_locked = WSGIAdapter._start_locked
        stream_body = WSGIAdapter.stream_body
        body_with_tasks = WSGIAdapter.body_with_tasks
        start = WSGIAdapter.start
        stop = WSGIAdapter.stop

        def __init__(self, app: App) -> None:
            super().__init__(app, dispatcher_of(impl, app), WSGIRequest, STATUS_LINES)
            self._started_pid = 0
            self._failed = False
            self._lock = threading.Lock()

    return Adapter


@pytest.fixture(params=["pure", "compiled"])
def serve_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The request-path implementation under test."""
    return implementation("serve", request.param)


def call(
    wsgi: Callable[..., Iterable[bytes]], method: str, target: str, body: bytes = b""
) -> Answer:
    """One request through a WSGI callable, the way a server makes it."""
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["CONTENT_TYPE"] = "application/json"
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]

    result = wsgi(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started[0], started[1], content


REQUESTS: list[tuple[str, str, bytes]] = [
    ("GET", "/text", b""),
    ("HEAD", "/text", b""),
    ("GET", "/users/42", b""),
    ("GET", "/users/x", b""),
    ("GET", "/search?q=pen&limit=3", b""),
    ("GET", "/search", b""),
    ("GET", "/search?q=a&limit=nope", b""),
    ("POST", "/items", b'{"name":"pen","price":1.5}'),
    ("POST", "/items", b'{"name":"pen"}'),
    ("POST", "/items", b"x" * 65),
    ("DELETE", "/text", b""),
    ("OPTIONS", "/text", b""),
    ("GET", "/nowhere", b""),
    ("GET", "/" + "a" * 9000, b""),
    ("GET", "/teapot", b""),
    ("GET", "/boom", b""),
    ("GET", "/keyerror", b""),
    ("GET", "/stream", b""),
    ("HEAD", "/stream", b""),
    ("GET", "/tasks/0", b""),
    ("GET", "/tasks/3", b""),
    ("GET", "/tasks", b""),
]


@pytest.mark.parametrize("middleware", [False, True], ids=["bare", "middleware"])
def test_both_implementations_answer_exactly_like_the_adapter(
    serve_impl: ModuleType, middleware: bool
) -> None:
    app = build_app(middleware=middleware)
    ours = adapter_class(serve_impl)(app)
    for method, target, body in REQUESTS:
        assert call(ours, method, target, body) == call(app.wsgi, method, target, body), target


def test_the_answers_are_the_documented_ones(serve_impl: ModuleType) -> None:
    wsgi = adapter_class(serve_impl)(build_app())
    status, headers, body = call(wsgi, "GET", "/text")
    assert (status, body) == ("200 OK", b"hello")
    assert ("content-length", "5") in headers
    assert call(wsgi, "HEAD", "/text")[2] == b""
    assert call(wsgi, "GET", "/users/42")[2] == b'{"id":42}'
    assert call(wsgi, "GET", "/search?q=pen&limit=3")[2] == b'{"q":"pen","limit":3}'
    assert call(wsgi, "POST", "/items", b'{"name":"pen","price":1.5}')[0] == "200 OK"
    expected = {
        ("GET", "/users/x"): "404",
        ("GET", "/search?q=a&limit=nope"): "422",
        ("POST", "/items"): "413",
        ("DELETE", "/text"): "405",
        ("OPTIONS", "/text"): "204",
        ("GET", "/" + "a" * 9000): "414",
        ("GET", "/teapot"): "418",
        ("GET", "/boom"): "500",
        ("GET", "/keyerror"): "404",
    }
    for (method, target), code in expected.items():  # phrases differ between Pythons
        body = b"x" * 65 if method == "POST" else b""
        assert call(wsgi, method, target, body)[0].split()[0] == code, target
    assert call(wsgi, "GET", "/stream")[2] == b"ab"
    assert call(wsgi, "HEAD", "/stream")[2] == b""
    TASK_RUNS.clear()
    assert call(wsgi, "GET", "/tasks/0")[2] == b"0"
    assert call(wsgi, "GET", "/tasks/5")[2] == b"5"
    assert call(wsgi, "GET", "/tasks")[2] == b'"queued"'
    assert TASK_RUNS == [5, 0]  # run when the body was closed, only where one was added


def test_startup_runs_once_and_a_failed_startup_answers_503(serve_impl: ModuleType) -> None:
    adapter = adapter_class(serve_impl)
    runs: list[int] = []
    app = build_app()
    app.on_startup(lambda: runs.append(1))
    wsgi = adapter(app)
    call(wsgi, "GET", "/text")
    call(wsgi, "GET", "/text")
    assert runs == [1]

    failing = build_app()

    @failing.on_startup
    def explode() -> None:
        raise RuntimeError("no database")

    status, headers, body = call(adapter(failing), "GET", "/text")
    assert status == "503 Service Unavailable"
    assert ("content-type", "application/problem+json") in headers
    assert b"failed to start" in body


def test_the_dispatcher_routes_a_request_built_by_either_core(serve_impl: ModuleType) -> None:
    app = build_app()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/users/7", "QUERY_STRING": ""}
    request = _messages.wsgi_request(WSGIRequest, app, environ)
    if serve_impl.__name__.startswith("duoweb._speedups") and not isinstance(
        request, implementation("messages", "compiled").RequestCore
    ):
        pytest.skip("the compiled dispatcher needs the compiled request core")
    response = dispatcher_of(serve_impl, app).dispatch_sync(request)
    assert (response.status_code, response.body) == (200, b'{"id":7}')
    assert request.path_params == {"user_id": 7}


@pytest.mark.parametrize("router_kind", ["pure", "compiled"])
def test_the_dispatcher_matches_through_either_router(
    serve_impl: ModuleType, router_kind: str
) -> None:
    app = build_app()
    router = implementation("router", router_kind).Router()
    for method, template, endpoint in app.dispatcher.router.routes():
        router.add(template, (method,), endpoint, endpoint.param_types)
    dispatcher = dispatcher_of(serve_impl, app)
    dispatcher.router = router
    cases = [("GET", "/users/7", 200, b'{"id":7}'), ("GET", "/nowhere", 404, None)]
    for method, path, status, body in cases:
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": ""}
        request = _messages.wsgi_request(WSGIRequest, app, environ)
        if serve_impl.__name__.startswith("duoweb._speedups") and not isinstance(
            request, implementation("messages", "compiled").RequestCore
        ):
            pytest.skip("the compiled dispatcher needs the compiled request core")
        response = dispatcher.dispatch_sync(request)
        assert response.status_code == status
        assert body is None or response.body == body


latin1_text = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=60)


@settings(
    max_examples=int(os.environ.get("DUOWEB_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "get", "BREW", ""]),
    path=st.one_of(latin1_text.map(lambda p: "/" + p), st.sampled_from(["/text", "/users/1"])),
    query=latin1_text,
    body=st.binary(max_size=80),
)
def test_arbitrary_requests_get_the_same_answer_from_both(
    method: str, path: str, query: str, body: bytes
) -> None:
    app = build_app(middleware=False)
    adapters = [adapter_class(implementation("serve", kind))(app) for kind in ("pure", "compiled")]
    target = f"{path}?{query}" if query else path
    answers = [call(adapter, method, target, body) for adapter in adapters]
    assert answers[0] == answers[1]
    assert not answers[0][0].startswith("5")  # the client's input never makes a 500
