"""Per-process request tallies: latency sums and bucket counts per (method, route, status).

Adding one request is a dictionary lookup, a bisection and two list updates under a lock:
the cheap side of metrics. ``duoweb.metrics`` hands the tallies to prometheus-client, which
keeps the metrics themselves (its collector reads them, or its multiprocess files get them).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Sequence

__all__ = ["RequestTally", "SeriesKey"]

#: (method, route template, status) of one series.
SeriesKey = tuple[str, str, int]


class RequestTally:
    """Latency sums and histogram bucket counts per series, safe to add to from any thread.

    Each series is a list: its latency sum, then one count per bucket of ``bounds`` (upper
    bounds in seconds, ascending) and a last one for the ``+Inf`` bucket. The counts are not
    cumulative; a series' request count is their sum.
    """

    __slots__ = ("_lock", "_series", "bounds")

    def __init__(self, bounds: Sequence[float]) -> None:
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"bucket bounds must be ascending and distinct, got {bounds!r}")
        #: The buckets' upper bounds in seconds, ascending, without ``+Inf``.
        self.bounds = tuple(float(bound) for bound in bounds)
        self._lock = threading.Lock()
        self._series: dict[SeriesKey, list[float]] = {}

    def add(self, key: SeriesKey, seconds: float) -> None:
        """Count one request of ``key`` that took ``seconds``."""
        bounds = self.bounds
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = [0.0] * (len(bounds) + 2)
            series[0] += seconds
            # A value equal to a bound belongs to that bound's bucket (Prometheus' "le").
            series[bisect_left(bounds, seconds) + 1] += 1

    def snapshot(self) -> dict[SeriesKey, list[float]]:
        """A copy of every series so far."""
        with self._lock:
            return {key: list(series) for key, series in self._series.items()}

    def take(self) -> dict[SeriesKey, list[float]]:
        """Every series so far, leaving the tally empty (what a flush moves elsewhere)."""
        with self._lock:
            taken, self._series = self._series, {}
        return taken
