"""OpenTelemetry server spans, checked with the SDK's in-memory exporter in both modes."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from duoweb import App, HTTPError
from duoweb.request_id import RequestIdFilter, RequestIdMiddleware
from duoweb.tracing import REQUEST_ID_ATTRIBUTE, SpanContextFilter, TracingMiddleware
from tests.conftest import MakeClient

PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"

log = logging.getLogger("tests.tracing")


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture(params=["def", "async def"])
def app(request: pytest.FixtureRequest, provider: TracerProvider) -> App:
    app = App()
    app.middleware(RequestIdMiddleware())
    app.middleware(TracingMiddleware(tracer_provider=provider))
    inner = provider.get_tracer("tests")

    def work(order_id: int) -> dict[str, object]:
        with inner.start_as_current_span("load order"):
            log.info("loading order %d", order_id)
        if order_id == 0:
            raise HTTPError(404, "no order 0")
        if order_id == 13:
            raise RuntimeError("unlucky order")
        return {"id": order_id}

    if request.param == "def":

        @app.get("/orders/{order_id}")
        def order(order_id: int) -> dict[str, object]:
            return work(order_id)

    else:

        @app.get("/orders/{order_id}")
        async def order_async(order_id: int) -> dict[str, object]:
            return work(order_id)

    return app


def attrs(item: ReadableSpan | Event) -> Mapping[str, Any]:
    return item.attributes or {}


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


def test_one_server_span_named_by_route_with_http_attributes(
    app: App, make_client: MakeClient, exporter: InMemorySpanExporter
) -> None:
    with make_client(app) as client:
        response = client.get(
            "/orders/7?verbose=1", headers={"user-agent": "probe/1", "x-request-id": "req-7"}
        )
    assert response.status_code == 200
    (span,) = server_spans(exporter)
    assert span.name == "GET /orders/{order_id}"
    attributes = dict(attrs(span))
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.route"] == "/orders/{order_id}"
    assert attributes["url.path"] == "/orders/7"
    assert attributes["url.query"] == "verbose=1"
    assert attributes["url.scheme"] == "http"
    assert attributes["server.address"] == "testserver"
    assert attributes["client.address"] == "127.0.0.1"
    assert attributes["user_agent.original"] == "probe/1"
    assert attributes["http.response.status_code"] == 200
    assert attributes[REQUEST_ID_ATTRIBUTE] == "req-7"
    assert span.status.status_code is StatusCode.UNSET
    (child,) = [s for s in exporter.get_finished_spans() if s.name == "load order"]
    assert child.parent is not None
    assert child.parent.span_id == span.context.span_id


def test_traceparent_is_continued_and_returned(
    app: App, make_client: MakeClient, exporter: InMemorySpanExporter
) -> None:
    incoming = f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"
    with make_client(app) as client:
        response = client.get("/orders/1", headers={"traceparent": incoming})
    (span,) = server_spans(exporter)
    context = span.context
    assert format(context.trace_id, "032x") == PARENT_TRACE
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_SPAN
    version, trace_id, span_id, flags = response.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", PARENT_TRACE, "01")
    assert span_id == format(context.span_id, "016x")


def test_a_malformed_traceparent_starts_a_new_trace(
    app: App, make_client: MakeClient, exporter: InMemorySpanExporter
) -> None:
    with make_client(app) as client:
        response = client.get("/orders/1", headers={"traceparent": "00-zz-\x7f-01"})
    assert response.status_code == 200
    (span,) = server_spans(exporter)
    assert span.parent is None
    assert format(span.context.trace_id, "032x") in response.headers["traceparent"]


def test_an_unhandled_exception_is_recorded_and_the_span_is_an_error(
    app: App, make_client: MakeClient, exporter: InMemorySpanExporter
) -> None:
    with make_client(app) as client:
        assert client.get("/orders/13").status_code == 500
        assert client.get("/orders/0").status_code == 404
    failed, missing = server_spans(exporter)
    assert failed.status.status_code is StatusCode.ERROR
    assert attrs(failed)["error.type"] == "RuntimeError"
    (event,) = failed.events
    assert event.name == "exception"
    assert attrs(event)["exception.type"] == "RuntimeError"
    assert attrs(event)["exception.message"] == "unlucky order"
    assert missing.status.status_code is StatusCode.UNSET  # a 4xx is the client's
    assert attrs(missing)["http.response.status_code"] == 404


def test_unmatched_requests_are_named_by_method_only(
    app: App, make_client: MakeClient, exporter: InMemorySpanExporter
) -> None:
    with make_client(app) as client:
        client.get("/no/such/path")
        client.request("BREW", "/orders/1")
    plain, invented = server_spans(exporter)
    assert plain.name == "GET"
    assert "http.route" not in attrs(plain)
    assert invented.name == "_OTHER"
    assert attrs(invented)["http.request.method_original"] == "BREW"


def test_log_records_carry_the_request_id_and_the_trace(
    app: App,
    make_client: MakeClient,
    exporter: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.handler.addFilter(SpanContextFilter())
    caplog.set_level(logging.INFO, logger="tests.tracing")
    with make_client(app) as client:
        client.get("/orders/5", headers={"x-request-id": "req-5"})
    (record,) = [r for r in caplog.records if r.name == "tests.tracing"]
    (span,) = server_spans(exporter)
    assert record.__dict__["request_id"] == "req-5"
    assert record.__dict__["trace_id"] == format(span.context.trace_id, "032x")
    assert attrs(span)[REQUEST_ID_ATTRIBUTE] == "req-5"
