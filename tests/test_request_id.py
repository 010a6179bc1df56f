"""Request ids and the access log: ids on every log record of a request, in both modes."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from duoweb import App, HTTPError, Request, Response, StreamingResponse
from duoweb.access_log import AccessLogMiddleware
from duoweb.request_id import (
    RequestIdFilter,
    RequestIdMiddleware,
    current_request_id,
    new_request_id,
)
from duoweb.testing import TestClient
from tests.conftest import MakeClient

Kind = str  # "def" or "async def": which side of a dual-mode middleware is registered

handler_log = logging.getLogger("tests.handler")


@pytest.fixture(params=["def", "async def"])
def kind(request: pytest.FixtureRequest) -> Kind:
    value: Kind = request.param
    return value


def add(app: App, middleware: RequestIdMiddleware | AccessLogMiddleware, kind: Kind) -> None:
    app.middleware(middleware if kind == "def" else middleware.call_async)


def field(record: logging.LogRecord, name: str) -> Any:
    """An attribute added to a record by a filter or by ``extra``."""
    return record.__dict__[name]


def capture(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Put RequestIdFilter on the capturing handler, as an app would on its own handlers.

    Called from the test body: pytest gives each test phase its own capturing handler.
    """
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)
    return caplog.records


def log_lines() -> Iterator[str]:
    handler_log.info("streaming starts")
    yield "one\n"
    handler_log.info("streaming goes on")
    yield "two\n"


async def async_log_lines() -> AsyncIterator[str]:
    handler_log.info("streaming starts")
    yield "one\n"
    await asyncio.sleep(0)
    handler_log.info("streaming goes on")
    yield "two\n"


def build(kind: Kind, **options: Any) -> App:
    app = App()
    add(app, RequestIdMiddleware(**options), kind)

    @app.get("/sync")
    def sync_handler(request: Request) -> dict[str, Any]:
        handler_log.info("in a def handler")
        return {"state": request.state["request_id"], "var": current_request_id()}

    @app.get("/async")
    async def async_handler(request: Request) -> dict[str, Any]:
        handler_log.info("in an async def handler")
        await asyncio.sleep(0)
        handler_log.warning("still there")
        return {"state": request.state["request_id"], "var": current_request_id()}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(log_lines(), media_type="text/plain")

    @app.get("/astream")
    async def astream() -> StreamingResponse:
        return StreamingResponse(async_log_lines(), media_type="text/plain")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("handler bug")

    return app


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_a_generated_id_is_everywhere(make_client: MakeClient, kind: Kind, path: str) -> None:
    with make_client(build(kind)) as client:
        first = client.get(path)
        second = client.get(path)
    request_id = first.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert first.json() == {"state": request_id, "var": request_id}
    assert second.headers["x-request-id"] != request_id
    assert current_request_id() is None  # nothing leaks into the caller's context


@pytest.mark.parametrize(
    "incoming",
    ["abc-123", "4bf92f3577b34da6a3ce929d0e0e4736", "req:1/2+3=4@edge_a.b", "x" * 128],
)
def test_a_well_formed_incoming_id_is_kept(
    make_client: MakeClient, kind: Kind, incoming: str
) -> None:
    with make_client(build(kind)) as client:
        response = client.get("/sync", headers={"x-request-id": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.json()["var"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 129, "has space", "semi;colon", "<script>", 'quote"', "percent%0A", "ünï"],
)
def test_a_malformed_incoming_id_is_replaced(
    make_client: MakeClient, kind: Kind, incoming: str
) -> None:
    with make_client(build(kind)) as client:
        response = client.get("/sync", headers={b"x-request-id": incoming.encode()})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_untrusted_incoming_ids_are_ignored(make_client: MakeClient, kind: Kind) -> None:
    with make_client(build(kind, trust_incoming=False)) as client:
        response = client.get("/sync", headers={"x-request-id": "abc"})
    assert response.headers["x-request-id"] != "abc"


def test_header_name_length_and_generator(make_client: MakeClient, kind: Kind) -> None:
    counter = iter(range(1, 100))
    app = build(
        kind, header="X-Correlation-ID", max_length=4, generate=lambda: f"gen-{next(counter)}"
    )
    with make_client(app) as client:
        kept = client.get("/sync", headers={"x-correlation-id": "abcd"})
        too_long = client.get("/sync", headers={"x-correlation-id": "abcde"})
    assert kept.headers["x-correlation-id"] == "abcd"
    assert too_long.headers["x-correlation-id"] == "gen-1"
    assert "x-request-id" not in kept.headers


def test_error_responses_carry_the_id(make_client: MakeClient, kind: Kind) -> None:
    with make_client(build(kind)) as client:
        crashed = client.get("/boom", headers={"x-request-id": "crash-1"})
        missing = client.get("/missing", headers={"x-request-id": "gone-1"})
    assert crashed.status_code == 500
    assert crashed.headers["x-request-id"] == "crash-1"
    assert missing.headers["x-request-id"] == "gone-1"


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_every_log_record_of_a_request_has_its_id(
    make_client: MakeClient, kind: Kind, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with make_client(build(kind)) as client:
        response = client.get(path, headers={"x-request-id": "trace-7"})
        handler_log.info("between requests")
    assert response.status_code == 200
    mine = [r for r in records if r.name == "tests.handler"]
    assert [field(r, "request_id") for r in mine[:-1]] == ["trace-7"] * (len(mine) - 1)
    assert len(mine) >= 2
    assert field(mine[-1], "request_id") == "-"


def test_records_of_a_failing_handler_have_the_id(
    make_client: MakeClient, kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with make_client(build(kind)) as client:
        client.get("/boom", headers={"x-request-id": "trace-9"})
    errors = [r for r in records if r.name == "duoweb" and r.levelno == logging.ERROR]
    assert [field(r, "request_id") for r in errors] == ["trace-9"]


@pytest.mark.parametrize("path", ["/stream", "/astream"])
def test_records_while_streaming_have_the_id(
    make_client: MakeClient, kind: Kind, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with make_client(build(kind)) as client:
        response = client.get(path, headers={"x-request-id": "stream-3"})
    assert response.text == "one\ntwo\n"
    mine = [r for r in records if r.name == "tests.handler"]
    assert [r.getMessage() for r in mine] == ["streaming starts", "streaming goes on"]
    assert [field(r, "request_id") for r in mine] == ["stream-3", "stream-3"]


def test_concurrent_requests_keep_their_own_ids() -> None:
    """Under ASGI many requests share a loop: each task's records carry its own id."""
    app = App()
    app.middleware(RequestIdMiddleware().call_async)
    seen: list[tuple[str, str | None]] = []

    @app.get("/wait")
    async def wait(request: Request) -> None:
        await asyncio.sleep(0.01)
        seen.append((request.state["request_id"], current_request_id()))

    async def one(n: int) -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/wait",
            "query_string": b"",
            "headers": [(b"x-request-id", f"r{n}".encode())],
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            return None

        await app.asgi(scope, receive, send)

    async def many() -> None:
        await asyncio.gather(*(one(n) for n in range(20)))

    asyncio.run(many())
    app.thread_pool.shutdown()
    assert len(seen) == 20
    assert all(state == var for state, var in seen)


def test_the_filter_outside_requests_and_with_an_explicit_id() -> None:
    request_filter = RequestIdFilter(default="none")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert request_filter.filter(record)
    assert field(record, "request_id") == "none"
    explicit = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    explicit.__dict__["request_id"] = "given"
    request_filter.filter(explicit)
    assert field(explicit, "request_id") == "given"
    assert re.fullmatch(r"[0-9a-f]{32}", new_request_id())


def test_bad_configuration() -> None:
    with pytest.raises(ValueError, match="max_length"):
        RequestIdMiddleware(max_length=0)


# --- the access log ------------------------------------------------------------------------

CLF = re.compile(
    r"(?P<client>\S+) - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-) (?P<ms>[\d.]+)ms (?P<id>\S+)'
)


def logged_app(kind: Kind, access_first: bool = False) -> App:
    app = App()
    request_ids = RequestIdMiddleware()
    access = AccessLogMiddleware()
    for middleware in (access, request_ids) if access_first else (request_ids, access):
        add(app, middleware, kind)

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(async_log_lines(), media_type="text/plain")

    @app.get("/sync-stream")
    def sync_stream() -> StreamingResponse:
        return StreamingResponse(log_lines(), media_type="text/plain")

    return app


def access_records(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.name == "duoweb.access"]


@pytest.mark.parametrize("access_first", [False, True], ids=["inside", "outside"])
def test_one_access_line_per_request(
    make_client: MakeClient, kind: Kind, access_first: bool, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with make_client(logged_app(kind, access_first)) as client:
        response = client.get("/items/7?verbose=1", headers={"x-request-id": "acc-1"})
        client.get("/nowhere")
    first, second = access_records(records)
    assert first.levelno == logging.INFO
    fields = {
        name: getattr(first, name)
        for name in ("method", "path", "query", "status", "bytes", "client", "request_id")
    }
    assert fields == {
        "method": "GET",
        "path": "/items/7",
        "query": "verbose=1",
        "status": 200,
        "bytes": len(response.content),
        "client": "127.0.0.1",
        "request_id": "acc-1",
    }
    assert isinstance(field(first, "duration_ms"), float)
    assert field(first, "duration_ms") >= 0
    line = CLF.fullmatch(first.getMessage())
    assert line is not None, first.getMessage()
    assert line["client"] == "127.0.0.1"
    assert line["request"] == "GET /items/7?verbose=1"
    assert (line["status"], line["bytes"], line["id"]) == (
        "200",
        str(len(response.content)),
        "acc-1",
    )
    assert field(second, "status") == 404
    assert field(second, "request_id") == second.getMessage().rsplit(" ", 1)[1]


@pytest.mark.parametrize("path", ["/stream", "/sync-stream"])
def test_streams_are_logged_once_when_sent(
    make_client: MakeClient, kind: Kind, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with make_client(logged_app(kind)) as client:
        response = client.get(path)
    (record,) = access_records(records)
    assert field(record, "bytes") == len(response.content) == 8
    # Logged after the body: the handler's records come first.
    assert records.index(record) > max(
        i for i, r in enumerate(records) if r.name == "tests.handler"
    )


@pytest.mark.parametrize("path", ["/items/1", "/stream"])
def test_head_counts_no_bytes(
    make_client: MakeClient, kind: Kind, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with make_client(logged_app(kind)) as client:
        client.head(path)
    (record,) = access_records(records)
    assert (field(record, "method"), field(record, "bytes")) == ("HEAD", 0)


def test_hostile_paths_cannot_forge_lines(
    make_client: MakeClient, kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with make_client(logged_app(kind)) as client:
        client.get("/a%0Afake%22line%5C")
    (record,) = access_records(records)
    assert field(record, "path") == '/a\nfake"line\\'
    assert '"GET /a\\x0afake\\x22line\\x5c"' in record.getMessage()
    assert "\n" not in record.getMessage()


def test_errors_raised_inside_are_logged(
    make_client: MakeClient, kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    app = App()
    add(app, AccessLogMiddleware(), kind)

    @app.middleware
    def strict(request: Request, call_next: Callable[[Request], Response]) -> Response:
        if request.path == "/denied":
            raise HTTPError(403, "no")
        raise RuntimeError("middleware bug")

    with make_client(app) as client:
        assert client.get("/denied").status_code == 403
        assert client.get("/broken").status_code == 500
    assert [field(r, "status") for r in access_records(records)] == [403, 500]


def test_a_quiet_logger_costs_nothing(
    make_client: MakeClient, kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="duoweb.access")
    app = App()
    add(app, AccessLogMiddleware(), kind)
    with make_client(app) as client:
        client.get("/")
    assert access_records(caplog.records) == []


def test_custom_logger_and_level(
    make_client: MakeClient, kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    app = App()
    add(
        app,
        AccessLogMiddleware(logger=logging.getLogger("myapp.http"), level=logging.WARNING),
        kind,
    )
    with make_client(app) as client:
        client.get("/")
    (record,) = [r for r in records if r.name == "myapp.http"]
    assert record.levelno == logging.WARNING
    assert field(record, "request_id") is None


@pytest.mark.parametrize("path", ["/items/1", "/stream", "/sync-stream"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_wsgi_compliance(
    kind: Kind, path: str, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    records = capture(caplog)
    with TestClient(logged_app(kind), "wsgi", validate_wsgi=True) as client:
        assert client.request(method, path).status_code == 200
    assert len(access_records(records)) == 1
