"""Prometheus metrics: request count, latency and in-flight requests, labelled by route template.

``metrics = enable_metrics(app)`` makes the app's dispatcher report each answered request to
a :class:`RequestMetrics` and serves ``/metrics``. Labels are the method, the route's path
*template* (``/items/{item_id}``, never the raw path: one series per route, whatever clients
send) and the status. Under several worker processes (Gunicorn ``-w 2``, Hypercorn ``-w 2``)
set ``PROMETHEUS_MULTIPROC_DIR`` before the workers start: prometheus-client then keeps the
values in files shared by the workers and ``/metrics`` sums them, whichever worker answers.
Needs ``pip install duoweb[metrics]``.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any, Final, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.multiprocess import MultiProcessCollector

from duoweb.metrics_collector import MetricNames, TallyCollector
from duoweb.metrics_files import TallyFlusher
from duoweb.request_tally import UNMATCHED, RequestTally, SeriesKey, TallyObserver
from duoweb.responses import Response
from duoweb.streaming import FileResponse, StreamingResponse
from duoweb.timed_streams import timed_stream

#: prometheus-client leaves this one unannotated (``(pid, path=None)``); the cast types it.
mark_process_dead = cast(
    "Callable[[int, str | None], None]",
    multiprocess.mark_process_dead,  # pyright: ignore[reportUnknownMemberType]
)

__all__ = [
    "UNMATCHED",
    "RequestMetrics",
    "enable_metrics",
    "gunicorn_child_exit",
    "multiprocess_dir",
]

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


class RequestMetrics:
    """Counts, times and gauges an app's requests, by method, route template and status.

    - ``registry``: where the metrics are registered (default: a registry of its own, so
      several apps in one process never clash).
    - ``namespace``: the metric name prefix (``http_server`` gives
      ``http_server_requests_total``, ``http_server_request_duration_seconds`` and
      ``http_server_requests_in_progress``).
    - ``buckets``: the latency histogram's upper bounds, in seconds.
    - ``flush_interval``: under multiprocess mode, how often (seconds) a worker moves its
      tallies into the shared files.

    Each request adds to a tally in memory (cheap); prometheus-client reads it at scrape
    time through a collector, or, in multiprocess mode, gets it in its own metrics every
    ``flush_interval``, before this worker answers a scrape and when the worker stops. A
    streamed body's time is included (the latency ends when the body is done), except a
    :class:`~duoweb.FileResponse`'s. The in-flight gauge is the number of requests this
    process is dispatching, read at scrape time (in multiprocess mode: at each flush).
    """

    def __init__(
        self,
        app: Any,
        *,
        registry: CollectorRegistry | None = None,
        namespace: str = "http_server",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        flush_interval: float = 1.0,
    ) -> None:
        self.app = app
        self.registry = CollectorRegistry() if registry is None else registry
        self.tally = RequestTally(buckets)
        #: The dispatcher's observer: adds each answered request to ``tally``.
        self.observer = TallyObserver(self.tally, app.dispatcher.router.match, self._streamed)
        names = MetricNames(namespace)
        self.flusher: TallyFlusher | None = None
        if multiprocess_dir():
            self.flusher = TallyFlusher(
                self.tally, self._in_flight, names, self.registry, flush_interval
            )
            app.on_startup(self.flusher.start)
            app.on_shutdown(self.flusher.stop)
            atexit.register(self.flusher.flush)  # a worker that exits without a shutdown
        else:
            self.registry.register(TallyCollector(self.tally, self._in_flight, names))

    def _in_flight(self) -> int:
        count: int = self.app.dispatcher.in_flight
        return count

    def _streamed(self, response: StreamingResponse, key: SeriesKey, started: float) -> bool:
        """Time a streamed body to its end: True when the request is added once it is done."""
        if key[0] == "HEAD" or isinstance(response, FileResponse):
            return False  # an ASGI HEAD never starts the stream; a file may go by sendfile
        tally = self.tally

        def done() -> None:
            tally.add(key, perf_counter() - started)

        response.stream = timed_stream(response.stream, done)
        return True

    def exposition(self) -> bytes:
        """The current values in Prometheus' text format (summed over workers if shared)."""
        directory = multiprocess_dir()
        if directory and self.flusher is not None:
            self.flusher.flush()  # this worker's own requests so far are in the sums
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
    flush_interval: float = 1.0,
) -> RequestMetrics:
    """Count ``app``'s requests with a :class:`RequestMetrics` and serve them at ``path``.

    ``path=None`` adds no route: serve ``metrics.response()`` yourself (behind
    authentication, or on another app). The route is left out of the OpenAPI document.
    An app has one set of request metrics: enabling them twice is an error.
    """
    dispatcher = app.dispatcher
    if dispatcher.observer is not None:
        raise RuntimeError("this app's requests are already observed (enable_metrics ran)")
    metrics = RequestMetrics(
        app,
        registry=registry,
        namespace=namespace,
        buckets=buckets,
        flush_interval=flush_interval,
    )
    dispatcher.observer = metrics.observer
    if path is not None:

        def metrics_endpoint() -> Response:
            return metrics.response()

        app.get(path, name="metrics", include_in_schema=False, inline=True)(metrics_endpoint)
    return metrics
