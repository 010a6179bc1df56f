"""Prometheus metrics: labelled by route template and status, in both modes, def and async."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from duoweb import App, HTTPError
from duoweb.metrics import UNMATCHED, MetricsMiddleware, enable_metrics
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
    gauge = ("http_server_requests_in_progress", (("method", "GET"), ("route", "/metrics")))
    assert found[gauge] == 1  # the /metrics request itself is in flight


def test_invented_methods_share_one_label(make_client: MakeClient) -> None:
    app = App()
    metrics = enable_metrics(app)
    with make_client(app) as client:
        for method in ("BREW", "WHEN", "PROPFIND"):
            client.request(method, "/")
    assert count(metrics.exposition().decode(), "_OTHER", UNMATCHED, "404") == 3


def in_progress(metrics: MetricsMiddleware) -> float | None:
    labels = {"method": "GET", "route": "/slow"}
    return metrics.registry.get_sample_value("http_server_requests_in_progress", labels)


def test_the_in_flight_gauge_counts_requests_being_answered(make_client: MakeClient) -> None:
    app = App()
    metrics = MetricsMiddleware()
    app.middleware(metrics)
    seen: list[float | None] = []

    @app.get("/slow")
    def slow() -> str:
        seen.append(in_progress(metrics))
        return "done"

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
