"""Prometheus metrics: labelled by route template and status, in both modes, def and async."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from duoweb import App, HTTPError, Request, Response, StreamingResponse
from duoweb.metrics import UNMATCHED, RequestMetrics, enable_metrics
from tests.conftest import MakeClient


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def count(text: str, method: str, route: str, status: str) -> float:
    labels = (("method", method), ("route", route), ("status", status))
    return samples(text).get(("http_server_requests_total", labels), 0.0)


@pytest.fixture(params=["def", "async def"])
def app(request: pytest.FixtureRequest) -> App:
    app = App()
    enable_metrics(app)
    if request.param == "def":

        @app.get("/items/{item_id}")
        def item(item_id: int) -> dict[str, int]:
            if item_id == 0:
                raise HTTPError(404, "no item 0")
            if item_id == 13:
                raise RuntimeError("unlucky")
            return {"id": item_id}

    else:

        @app.get("/items/{item_id}")
        async def item_async(item_id: int) -> dict[str, int]:
            if item_id == 0:
                raise HTTPError(404, "no item 0")
            if item_id == 13:
                raise RuntimeError("unlucky")
            return {"id": item_id}

    return app


def test_requests_are_counted_by_route_template_and_status(
    app: App, make_client: MakeClient
) -> None:
    with make_client(app) as client:
        for item_id in (1, 2, 3):
            assert client.get(f"/items/{item_id}").status_code == 200
        assert client.get("/items/0").status_code == 404
        assert client.get("/items/13").status_code == 500
        assert client.head("/items/4").status_code == 200
        assert client.get("/nowhere/at/all").status_code == 404
        assert client.post("/items/1").status_code == 405
        exposition = client.get("/metrics")
    assert exposition.headers["content-type"].startswith("text/plain; version=")
    assert exposition.headers["cache-control"] == "no-store"
    text = exposition.text
    assert count(text, "GET", "/items/{item_id}", "200") == 3
    assert count(text, "GET", "/items/{item_id}", "404") == 1
    assert count(text, "GET", "/items/{item_id}", "500") == 1
    assert count(text, "HEAD", "/items/{item_id}", "200") == 1
    assert count(text, "GET", UNMATCHED, "404") == 1
    assert count(text, "POST", UNMATCHED, "405") == 1
    assert "/items/1" not in text
    assert "/nowhere" not in text
    found = samples(text)
    histogram = (
        "http_server_request_duration_seconds_count",
        (("method", "GET"), ("route", "/items/{item_id}"), ("status", "200")),
    )
    assert found[histogram] == 3
    assert found["http_server_requests_in_progress", ()] == 1  # the /metrics request itself


def test_a_request_answered_by_middleware_before_routing_keeps_its_route_label(
    app: App, make_client: MakeClient
) -> None:
    def refuse_marked(request: Request, call_next: Callable[[Request], Response]) -> Response:
        if request.header("x-refuse") is not None:
            return Response(b"", status_code=429)
        return call_next(request)

    app.middleware(refuse_marked)
    with make_client(app) as client:
        assert client.get("/items/1", headers={"x-refuse": "1"}).status_code == 429
        assert client.get("/nowhere", headers={"x-refuse": "1"}).status_code == 429
        assert client.get("/items/2").status_code == 200
        text = client.get("/metrics").text
    assert count(text, "GET", "/items/{item_id}", "429") == 1
    assert count(text, "GET", UNMATCHED, "429") == 1
    assert count(text, "GET", "/items/{item_id}", "200") == 1


def test_invented_methods_share_one_label(make_client: MakeClient) -> None:
    app = App()
    metrics = enable_metrics(app)
    with make_client(app) as client:
        for method in ("BREW", "WHEN", "PROPFIND"):
            client.request(method, "/")
    assert count(metrics.exposition().decode(), "_OTHER", UNMATCHED, "404") == 3


def in_progress(metrics: RequestMetrics) -> float | None:
    return metrics.registry.get_sample_value("http_server_requests_in_progress")


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_the_in_flight_gauge_counts_requests_being_answered(
    make_client: MakeClient, kind: str
) -> None:
    app = App()
    metrics = enable_metrics(app)
    seen: list[float | None] = []

    def look() -> str:
        seen.append(in_progress(metrics))
        return "done"

    async def look_async() -> str:
        return look()

    app.get("/slow")(look if kind == "def" else look_async)
    with make_client(app) as client:
        assert client.get("/slow").status_code == 200
    assert seen == [1.0]
    assert in_progress(metrics) == 0.0


def test_metrics_without_a_route_and_with_an_own_registry(make_client: MakeClient) -> None:
    registry = CollectorRegistry()
    app = App()
    metrics = enable_metrics(app, path=None, registry=registry, namespace="shop")

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    with make_client(app) as client:
        client.get("/ping")
        assert client.get("/metrics").status_code == 404
    value = registry.get_sample_value(
        "shop_requests_total", {"method": "GET", "route": "/ping", "status": "200"}
    )
    assert value == 1
    assert b"shop_request_duration_seconds_bucket" in metrics.exposition()


def series_count(metrics: RequestMetrics, route: str, method: str = "GET") -> float:
    labels = {"method": method, "route": route, "status": "200"}
    return metrics.registry.get_sample_value("http_server_requests_total", labels) or 0.0


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_a_streamed_request_is_counted_once_its_body_is_done(
    make_client: MakeClient, kind: str
) -> None:
    app = App()
    metrics = enable_metrics(app)
    seen_while_streaming: list[float] = []

    def chunks() -> Iterator[str]:
        yield "one "
        seen_while_streaming.append(series_count(metrics, "/stream"))
        yield "two"

    async def chunks_async() -> AsyncIterator[str]:
        for chunk in chunks():
            yield chunk

    if kind == "def":

        @app.get("/stream")
        def stream() -> StreamingResponse:
            return StreamingResponse(chunks(), media_type="text/plain")

    else:

        @app.get("/stream")
        async def stream_async() -> StreamingResponse:
            return StreamingResponse(chunks_async(), media_type="text/plain")

    with make_client(app) as client:
        assert client.get("/stream").text == "one two"
        assert series_count(metrics, "/stream") == 1
        assert client.head("/stream").status_code == 200
    assert seen_while_streaming == [0.0]  # not counted before its body ended
    assert series_count(metrics, "/stream", "HEAD") == 1
    histogram = metrics.registry.get_sample_value(
        "http_server_request_duration_seconds_count",
        {"method": "GET", "route": "/stream", "status": "200"},
    )
    assert histogram == 1


def test_enabling_metrics_twice_is_an_error() -> None:
    app = App()
    enable_metrics(app)
    with pytest.raises(RuntimeError, match="already observed"):
        enable_metrics(app, path="/metrics2")


def test_an_app_without_metrics_has_no_observer() -> None:
    assert App().dispatcher.observer is None


def test_latencies_land_in_the_le_bucket_of_their_upper_bound() -> None:
    app = App()
    metrics = RequestMetrics(app, buckets=(0.001, 0.01))
    key = ("GET", "/x", 200)
    for seconds in (0.001, 0.0011, 0.01, 5.0):
        metrics.tally.add(key, seconds)
    text = generate_latest(metrics.registry).decode()
    labels = 'method="GET",route="/x",status="200"'
    assert f'http_server_request_duration_seconds_bucket{{le="0.001",{labels}}} 1.0' in text
    assert f'http_server_request_duration_seconds_bucket{{le="0.01",{labels}}} 3.0' in text
    assert f'http_server_request_duration_seconds_bucket{{le="+Inf",{labels}}} 4.0' in text
    assert f"http_server_requests_total{{{labels}}} 4.0" in text
    found = samples(text)
    sum_key = (
        "http_server_request_duration_seconds_sum",
        tuple(sorted({"method": "GET", "route": "/x", "status": "200"}.items())),
    )
    assert found[sum_key] == pytest.approx(5.0121)


def test_bucket_bounds_must_ascend() -> None:
    with pytest.raises(ValueError, match="ascending"):
        RequestMetrics(App(), buckets=(0.1, 0.01))


@pytest.fixture
def multiprocess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """prometheus-client's multiprocess mode, as a worker started with the variable set has."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # prometheus-client picks its value class when imported; a worker process imports it
    # with the variable already set, this test process did not
    value_class = values.MultiProcessValue(lambda: 4242)  # type: ignore[no-untyped-call]
    monkeypatch.setattr(values, "ValueClass", value_class)
    return tmp_path


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_multiprocess_mode_flushes_tallies_into_the_shared_files(
    multiprocess: Path, make_client: MakeClient, kind: str
) -> None:
    app = App()
    metrics = enable_metrics(app, flush_interval=3600)  # only the explicit triggers here
    assert metrics.flusher is not None

    def ping() -> str:
        return "pong"

    async def ping_async() -> str:
        return "pong"

    app.get("/ping")(ping if kind == "def" else ping_async)

    def shared() -> float:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(multiprocess))  # type: ignore[no-untyped-call]
        labels = {"method": "GET", "route": "/ping", "status": "200"}
        return registry.get_sample_value("http_server_requests_total", labels) or 0.0

    with make_client(app) as client:
        for _ in range(3):
            client.get("/ping")
        assert shared() == 0  # still in this worker's tally
        assert count(client.get("/metrics").text, "GET", "/ping", "200") == 3  # flushed first
        assert shared() == 3
        client.get("/ping")
        assert metrics.tally.snapshot()  # not flushed yet...
    assert shared() == 4  # ...until the worker stopped
    assert not metrics.tally.snapshot()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(multiprocess))  # type: ignore[no-untyped-call]
    buckets = registry.get_sample_value(
        "http_server_request_duration_seconds_count",
        {"method": "GET", "route": "/ping", "status": "200"},
    )
    assert buckets == 4


def test_multiprocess_flushes_on_its_timer(multiprocess: Path) -> None:
    app = App()
    metrics = enable_metrics(app, flush_interval=0.01)
    assert metrics.flusher is not None
    metrics.tally.add(("GET", "/x", 200), 0.5)
    metrics.flusher.start()
    try:
        flushed = threading.Event()
        for _ in range(500):  # the timer runs within a few of its 10 ms intervals
            if not metrics.tally.snapshot():
                flushed.set()
                break
            flushed.wait(0.01)
        assert flushed.is_set()
    finally:
        metrics.flusher.stop()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(multiprocess))  # type: ignore[no-untyped-call]
    labels = {"method": "GET", "route": "/x", "status": "200"}
    assert registry.get_sample_value("http_server_requests_total", labels) == 1


def test_a_mounted_app_counts_its_own_requests(make_client: MakeClient) -> None:
    admin = App(openapi_url=None, docs_url=None)
    admin_metrics = enable_metrics(admin, path=None, namespace="admin")

    @admin.get("/users/{user_id}")
    def user(user_id: int) -> int:
        return user_id

    app = App()
    metrics = enable_metrics(app)
    app.mount("/admin", admin)
    with make_client(app) as client:
        assert client.get("/admin/users/7").json() == 7
        own = client.get("/metrics").text
    labels = {"method": "GET", "route": "/users/{user_id}", "status": "200"}
    assert admin_metrics.registry.get_sample_value("admin_requests_total", labels) == 1
    assert "/users/" not in own  # the mounting app never saw it
    assert "/admin" not in own
    assert metrics.tally.snapshot().keys() == {("GET", "/metrics", 200)}
