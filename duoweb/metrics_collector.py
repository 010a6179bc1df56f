"""A prometheus-client collector over a process's request tallies (single-process mode).

Registered in a ``CollectorRegistry``, it turns the tallies into the three metric families
at each scrape: prometheus-client formats and serves them; nothing is copied per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import utils as prometheus_utils
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from duoweb.request_tally import RequestTally

__all__ = ["MetricNames", "TallyCollector"]

LABELS = ("method", "route", "status")


class MetricNames:
    """The three metric names under one namespace, and their help texts."""

    __slots__ = ("duration", "in_progress", "requests")

    def __init__(self, namespace: str) -> None:
        prefix = f"{namespace}_" if namespace else ""
        self.requests = prefix + "requests"
        self.duration = prefix + "request_duration_seconds"
        self.in_progress = prefix + "requests_in_progress"

    REQUESTS_HELP = "HTTP requests answered, by method, route template and status."
    DURATION_HELP = "Time to answer an HTTP request, by method, route template and status."
    IN_PROGRESS_HELP = "HTTP requests being answered by this process (sampled)."


class TallyCollector(Collector):
    """Request count, latency histogram and in-flight gauge read from a tally at scrape time."""

    def __init__(
        self, tally: RequestTally, in_flight: Callable[[], int], names: MetricNames
    ) -> None:
        self.tally = tally
        self.in_flight = in_flight
        self.names = names
        # prometheus-client's own spelling of a bound, as its Histogram labels its buckets
        # (floatToGoString is untyped: read through getattr so the annotation gives its type)
        go_float: Callable[[float], str] = getattr(prometheus_utils, "floatToGoString")  # noqa: B009
        les = [go_float(bound) for bound in tally.bounds]
        self._les: list[str] = [*les, "+Inf"]

    def _families(self) -> tuple[CounterMetricFamily, HistogramMetricFamily, GaugeMetricFamily]:
        names = self.names
        return (
            CounterMetricFamily(names.requests, names.REQUESTS_HELP, labels=LABELS),
            HistogramMetricFamily(names.duration, names.DURATION_HELP, labels=LABELS),
            GaugeMetricFamily(names.in_progress, names.IN_PROGRESS_HELP),
        )

    def describe(self) -> Iterable[Metric]:
        """The families without samples (lets the registry check names without a scrape)."""
        return self._families()

    def collect(self) -> Iterable[Metric]:
        """The families with every series' current values."""
        requests, duration, in_progress = self._families()
        for (method, route, status), series in sorted(self.tally.snapshot().items()):
            labels = [method, route, str(status)]
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for le, count in zip(self._les, series[1:], strict=True):
                cumulative += count
                buckets.append((le, cumulative))
            requests.add_metric(labels, cumulative)
            duration.add_metric(labels, buckets, series[0])
        in_progress.add_metric([], float(self.in_flight()))
        return (requests, duration, in_progress)
