"""Prometheus metrics: request count, latency and in-flight requests, labelled by route template.

``metrics = enable_metrics(app)`` adds :class:`MetricsMiddleware` and a ``/metrics`` route.
Labels are the method, the route's path *template* (``/items/{item_id}``, never the raw
path: one series per route, whatever clients send) and the status. Under several worker
processes (Gunicorn ``-w 2``, Hypercorn ``-w 2``) set ``PROMETHEUS_MULTIPROC_DIR`` before the
workers start: prometheus-client then keeps the values in files shared by the workers and
``/metrics`` sums them, whichever worker answers. Needs ``pip install duoweb[metrics]``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.multiprocess import MultiProcessCollector

from duoweb.requests import Request
from duoweb.responses import Response

#: prometheus-client leaves this one unannotated (``(pid, path=None)``); the cast types it.
mark_process_dead = cast(
    "Callable[[int, str | None], None]",
    multiprocess.mark_process_dead,  # pyright: ignore[reportUnknownMemberType]
)

__all__ = [
    "UNMATCHED",
    "MetricsMiddleware",
    "enable_metrics",
    "gunicorn_child_exit",
    "multiprocess_dir",
]

#: The route label of requests no route answers (404, 405): never the raw path.
UNMATCHED: Final = "<unmatched>"

#: Latency buckets in seconds, from 1 ms to 10 s.
DEFAULT_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

#: Methods labelled as they are; any other is labelled ``OTHER_METHOD``.
STANDARD_METHODS: Final = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
)
OTHER_METHOD: Final = "_OTHER"

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


def multiprocess_dir() -> str | None:
    """The directory prometheus-client's multiprocess mode shares values in, when set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def gunicorn_child_exit(server: Any, worker: Any) -> None:
    """Gunicorn ``child_exit`` hook: drop a dead worker's in-flight gauge from the sums.

    Put ``from duoweb.metrics import gunicorn_child_exit as child_exit`` in the Gunicorn
    configuration file.
    """
    directory = multiprocess_dir()
    if directory:
        mark_process_dead(worker.pid, directory)


class _Series:
    """The label children of one (method, route, status), resolved once and reused."""

    __slots__ = ("count", "duration")

    def __init__(self, count: Any, duration: Any) -> None:
        self.count = count
        self.duration = duration


class MetricsMiddleware:
    """Count, time and gauge every request, labelled by method, route template and status.

    - ``registry``: where the metrics are registered (default: a registry of its own, so
      several apps in one process never clash).
    - ``namespace``: the metric name prefix (``http_server`` gives
      ``http_server_requests_total``, ``http_server_request_duration_seconds`` and
      ``http_server_requests_in_progress``).
    - ``buckets``: the latency histogram's upper bounds, in seconds.

    The duration runs until the handler's response is ready (a stream's body is not
    included). The in-flight gauge has no status label: the status is not known yet. It is
    dual-mode: ``__call__`` is the ``def`` middleware, ``call_async`` the ``async def`` one.
    """

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        namespace: str = "http_server",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.requests = Counter(
            "requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            namespace=namespace,
            registry=self.registry,
        )
        self.duration = Histogram(
            "request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ("method", "route", "status"),
            namespace=namespace,
            registry=self.registry,
            buckets=tuple(buckets),
        )
        self.in_progress = Gauge(
            "requests_in_progress",
            "HTTP requests being answered, by method and route template.",
            ("method", "route"),
            namespace=namespace,
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._series: dict[tuple[str, str, int], _Series] = {}
        self._gauges: dict[tuple[str, str], Any] = {}

    def _gauge(self, method: str, route: str) -> Any:
        gauge = self._gauges.get((method, route))
        if gauge is None:
            gauge = self._gauges[method, route] = self.in_progress.labels(method, route)
        return gauge

    def _record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            labels = (method, route, str(status))
            series = self._series[key] = _Series(
                self.requests.labels(*labels), self.duration.labels(*labels)
            )
        series.count.inc()
        series.duration.observe(seconds)

    def _labels(self, request: Request) -> tuple[str, str]:
        method = request.method
        route = request.app.route_template(method, request.path)
        if method not in STANDARD_METHODS:  # each invented method would make new series
            method = OTHER_METHOD
        return (method, UNMATCHED) if route is None else (method, route)

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        method, route = self._labels(request)
        gauge = self._gauge(method, route)
        gauge.inc()
        started = time.perf_counter()
        status = 500
        try:
            response = call_next(request)
            status = response.status_code
            return response
        finally:
            gauge.dec()
            self._record(method, route, status, time.perf_counter() - started)

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        method, route = self._labels(request)
        gauge = self._gauge(method, route)
        gauge.inc()
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            gauge.dec()
            self._record(method, route, status, time.perf_counter() - started)

    def exposition(self) -> bytes:
        """The current values in Prometheus' text format (summed over workers if shared)."""
        directory = multiprocess_dir()
        if directory:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)

    def response(self) -> Response:
        """The ``/metrics`` answer: the exposition, never cached."""
        return Response(
            self.exposition(),
            media_type=CONTENT_TYPE_LATEST,
            headers={"cache-control": "no-store"},
        )


def enable_metrics(
    app: Any,
    *,
    path: str | None = "/metrics",
    registry: CollectorRegistry | None = None,
    namespace: str = "http_server",
    buckets: Sequence[float] = DEFAULT_BUCKETS,
) -> MetricsMiddleware:
    """Add :class:`MetricsMiddleware` to ``app`` and serve its metrics at ``path``.

    ``path=None`` adds no route: serve ``metrics.response()`` yourself (behind
    authentication, or on another app). The route is left out of the OpenAPI document.
    """
    metrics = MetricsMiddleware(registry=registry, namespace=namespace, buckets=buckets)
    app.middleware(metrics)
    if path is not None:

        def metrics_endpoint() -> Response:
            return metrics.response()

        app.get(path, name="metrics", include_in_schema=False, inline=True)(metrics_endpoint)
    return metrics
