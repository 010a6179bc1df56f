"""Request tallies and the dispatcher observer that adds to them: the pure-Python twin.

``RequestTally`` keeps, per (method, route template, status) series, the latency sum and one
count per histogram bucket; ``TallyObserver`` is the dispatcher's observer that labels each
answered request and adds it. A routed request is counted under its endpoint object, method
and status (the template is read once per series, when ``snapshot`` or ``take`` labels it).
``duoweb._speedups._tally`` compiles the same API (there the GIL makes each addition atomic;
here a lock does). ``duoweb.metrics`` hands the tallies to prometheus-client, which keeps the
metrics themselves.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final

from duoweb._observer_py import RequestObserver
from duoweb.streaming import StreamingResponse

if TYPE_CHECKING:
    from duoweb.requests import Request
    from duoweb.responses import Response

__all__ = ["OTHER_METHOD", "STANDARD_METHODS", "UNMATCHED", "RequestTally", "TallyObserver"]

#: (method, route template, status) of one series.
SeriesKey = tuple[str, str, int]

#: The route label of requests no route answers (404, 405): never the raw path.
UNMATCHED: Final = "<unmatched>"

#: Methods labelled as they are; any other is labelled ``OTHER_METHOD``.
STANDARD_METHODS: Final = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
)
OTHER_METHOD: Final = "_OTHER"


class RequestTally:
    """Latency sums and histogram bucket counts per series, safe to add to from any thread.

    Each series is a list: its latency sum, then one count per bucket of ``bounds`` (upper
    bounds in seconds, ascending) and a last one for the ``+Inf`` bucket. The counts are not
    cumulative; a series' request count is their sum.
    """

    __slots__ = ("_lock", "_routes", "_series", "bounds")

    def __init__(self, bounds: Sequence[float]) -> None:
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"bucket bounds must be ascending and distinct, got {bounds!r}")
        #: The buckets' upper bounds in seconds, ascending, without ``+Inf``.
        self.bounds = tuple(float(bound) for bound in bounds)
        self._lock = threading.Lock()
        self._series: dict[SeriesKey, list[float]] = {}
        #: Routed requests' series by (endpoint or None, method, status).
        self._routes: dict[tuple[Any, str, int], list[float]] = {}

    def _count_into(self, series: list[float], seconds: float) -> None:
        series[0] += seconds
        # A value equal to a bound belongs to that bound's bucket (Prometheus' "le").
        series[bisect_left(self.bounds, seconds) + 1] += 1

    def _add_routed(self, endpoint: Any, method: str, status: int, seconds: float) -> None:
        """Count one request that ``endpoint`` (None: no route) answered with ``status``."""
        key = (endpoint, method, status)
        with self._lock:
            series = self._routes.get(key)
            if series is None:
                series = self._routes[key] = [0.0] * (len(self.bounds) + 2)
            self._count_into(series, seconds)

    def add(self, key: SeriesKey, seconds: float) -> None:
        """Count one request of ``key`` that took ``seconds``."""
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = [0.0] * (len(self.bounds) + 2)
            self._count_into(series, seconds)

    def snapshot(self) -> dict[SeriesKey, list[float]]:
        """A copy of every series so far."""
        with self._lock:
            return _labelled(self._routes, self._series)

    def take(self) -> dict[SeriesKey, list[float]]:
        """Every series so far, leaving the tally empty (what a flush moves elsewhere)."""
        with self._lock:
            routes, self._routes = self._routes, {}
            series, self._series = self._series, {}
        return _labelled(routes, series)


def _labelled(
    routes: dict[tuple[Any, str, int], list[float]], series: dict[SeriesKey, list[float]]
) -> dict[SeriesKey, list[float]]:
    """Every series of ``routes`` and ``series`` by label, copied; equal labels summed."""
    result: dict[SeriesKey, list[float]] = {}
    labelled = [*series.items()]
    for (endpoint, method, status), values in routes.items():
        route: str = UNMATCHED if endpoint is None else endpoint.template
        labelled.append(((method, route, status), values))
    for key, values in labelled:
        present = result.get(key)
        if present is None:
            result[key] = list(values)
        else:  # two endpoints with one label (a template served twice)
            for index, value in enumerate(values):
                present[index] += value
    return result


#: Takes over a streamed answer: ``(response, key, started) -> True`` when it will add the
#: request itself once the body is done.
StreamHook = Callable[[StreamingResponse, SeriesKey, float], bool]


class TallyObserver(RequestObserver):
    """The dispatcher's observer: labels each answered request and adds it to a tally.

    The route label is the template of the request's ``endpoint`` (the route the dispatcher
    matched), or ``UNMATCHED``. A request that was never routed (answered by a middleware
    first) is matched with ``match``, the app's ``router.match``, to find its route. A
    streaming answer goes to ``streamed`` first.
    """

    __slots__ = ("match", "streamed", "tally")

    def __init__(
        self, tally: RequestTally, match: Callable[[str, str], Any], streamed: StreamHook
    ) -> None:
        self.tally = tally
        self.match = match
        self.streamed = streamed

    def observe(self, request: Request, response: Response, started: float) -> None:
        """Count one answered request that began at ``started`` (``time.perf_counter()``)."""
        method = request.method
        endpoint = request.endpoint
        if endpoint is None:  # not routed (a middleware answered), or no route matches
            endpoint = self.match(method, request.path)[0]
            if endpoint is None and method not in STANDARD_METHODS:
                method = OTHER_METHOD  # each invented method would make new series
        status = response.status_code
        if type(status) is not int or not _C_LONG_MIN <= status <= _C_LONG_MAX:
            self.tally.add(_label(method, endpoint, status), perf_counter() - started)
            return
        if isinstance(response, StreamingResponse) and self.streamed(
            response, _label(method, endpoint, status), started
        ):
            return
        self.tally._add_routed(  # pyright: ignore[reportPrivateUsage]  # the tally's own module
            endpoint, method, status, perf_counter() - started
        )


#: The statuses the compiled twin keeps in 64 bits; any other is counted under its label.
_C_LONG_MIN: Final = -(2**63)
_C_LONG_MAX: Final = 2**63 - 1


def _label(method: str, endpoint: Any, status: int) -> SeriesKey:
    """The (method, route template, status) label of a request ``endpoint`` answered."""
    return (method, UNMATCHED if endpoint is None else endpoint.template, status)
