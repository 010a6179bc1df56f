"""Moving request tallies into prometheus-client's multiprocess files, off the request path.

Under several workers prometheus-client's multiprocess mode keeps each metric value in files
under ``PROMETHEUS_MULTIPROC_DIR`` that ``/metrics`` sums, whichever worker answers. Writing
them costs several thousand instructions per value, so requests only add to a tally in
memory and :class:`TallyFlusher` moves it into prometheus-client's own Counter, Histogram
and Gauge every ``interval`` seconds (a daemon thread), before this worker answers a scrape,
and when the worker stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from duoweb._lazy import lazy_logger
from duoweb.metrics_collector import LABELS, MetricNames
from duoweb.request_tally import RequestTally
from duoweb.type_guards import is_list

__all__ = ["TallyFlusher"]

logger = lazy_logger("duoweb.metrics", globals())


def _add_bucket_counts(child: Any, series: list[float]) -> None:
    """Add a tally series (sum, per-bucket counts) to a Histogram child in one step.

    prometheus-client has no public way to add many observations at once (``observe`` takes
    one value), so this adds to the child's sum and per-bucket values, the same objects
    ``observe`` updates (its buckets are not cumulative either). Their shape is checked
    first, so a prometheus-client that changed them fails loudly, not with wrong numbers.
    """
    buckets: object = getattr(child, "_buckets", None)
    total: Any = getattr(child, "_sum", None)
    if not is_list(buckets) or len(buckets) != len(series) - 1 or total is None:
        raise RuntimeError(
            "this prometheus-client's Histogram no longer keeps one value per bucket: "
            "duoweb.metrics cannot add request tallies to it (please report it)"
        )
    total.inc(series[0])
    for bucket, count in zip(buckets, series[1:], strict=True):
        if count:
            bucket.inc(count)


class TallyFlusher:
    """prometheus-client metrics fed from a tally: flushed on a timer, on demand and at exit."""

    def __init__(
        self,
        tally: RequestTally,
        in_flight: Callable[[], int],
        names: MetricNames,
        registry: CollectorRegistry,
        interval: float,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"flush_interval must be positive, got {interval!r}")
        self.tally = tally
        self.in_flight = in_flight
        self.interval = interval
        self.requests = Counter(names.requests, names.REQUESTS_HELP, LABELS, registry=registry)
        self.duration = Histogram(
            names.duration,
            names.DURATION_HELP,
            LABELS,
            registry=registry,
            buckets=tally.bounds,
        )
        self.in_progress = Gauge(
            names.in_progress,
            names.IN_PROGRESS_HELP,
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._flushing = threading.Lock()

    def flush(self) -> None:
        """Move what the tally holds into the metrics (their files), and sample in-flight."""
        with self._flushing:  # two flushes at once would only contend on the files
            for (method, route, status), series in self.tally.take().items():
                labels = (method, route, str(status))
                self.requests.labels(*labels).inc(sum(series[1:]))
                _add_bucket_counts(self.duration.labels(*labels), series)
            self.in_progress.set(self.in_flight())

    def start(self) -> None:
        """Flush every ``interval`` seconds from a daemon thread (once per worker process)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="duoweb-metrics-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.flush()
            except Exception:
                logger.exception("flushing the request metrics failed")

    def stop(self) -> None:
        """Stop the timer and flush what is left (the worker is stopping)."""
        self._stopped.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self.flush()
