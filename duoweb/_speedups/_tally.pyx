# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled request tallies and their dispatcher observer: the twin of ``duoweb._tally_py``.

Same API and behaviour as the pure module. No lock: the GIL is held from the lookup of a
series to its last update (no Python code runs in between), so an addition is atomic.
"""

from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.list cimport PyList_GET_ITEM, PyList_SET_ITEM
from cpython.object cimport PyObject_TypeCheck, PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF

from duoweb._speedups._messages cimport RequestCore, ResponseCore

from time import perf_counter

from duoweb.streaming import StreamingResponse

__all__ = ["OTHER_METHOD", "STANDARD_METHODS", "UNMATCHED", "RequestTally", "TallyObserver"]

UNMATCHED = "<unmatched>"
STANDARD_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
)
OTHER_METHOD = "_OTHER"


cdef inline int _bump(list series, Py_ssize_t index, object amount) except -1:
    """series[index] += amount, without bounds checks (index is always in range)."""
    cdef object old = <object>PyList_GET_ITEM(series, index)
    cdef object new = old + amount
    Py_INCREF(new)
    Py_DECREF(old)
    PyList_SET_ITEM(series, index, new)
    return 0


cdef class RequestTally:
    """Latency sums and histogram bucket counts per series, safe to add to from any thread.

    Each series is a list: its latency sum, then one count per bucket of ``bounds`` (upper
    bounds in seconds, ascending) and a last one for the ``+Inf`` bucket. The counts are not
    cumulative; a series' request count is their sum.
    """

    cdef public tuple bounds
    cdef dict _series
    cdef list _limits

    def __init__(self, bounds):
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"bucket bounds must be ascending and distinct, got {bounds!r}")
        self.bounds = tuple(float(bound) for bound in bounds)
        self._limits = list(self.bounds)
        self._series = {}

    cdef int _add(self, object key, double seconds) except -1:
        cdef list limits
        cdef list series = self._series.get(key)
        cdef Py_ssize_t index = 0
        cdef Py_ssize_t count = len(self._limits)
        if series is None:
            series = [0.0] * (count + 2)
            self._series[key] = series
        # A value equal to a bound belongs to that bound's bucket (Prometheus' "le").
        limits = self._limits
        while index < count and seconds > PyFloat_AS_DOUBLE(<object>PyList_GET_ITEM(limits, index)):
            index += 1
        _bump(series, 0, seconds)
        _bump(series, index + 1, 1)
        return 0

    def add(self, key, double seconds):
        """Count one request of ``key`` that took ``seconds``."""
        self._add(key, seconds)

    def snapshot(self):
        """A copy of every series so far."""
        return {key: list(series) for key, series in self._series.items()}

    def take(self):
        """Every series so far, leaving the tally empty (what a flush moves elsewhere)."""
        taken = self._series
        self._series = {}
        return taken


cdef class TallyObserver:
    """The dispatcher's observer: labels each answered request and adds it to a tally.

    The route label is the template of the request's ``endpoint`` (the route the dispatcher
    matched), or ``UNMATCHED``. A request that was never routed (answered by a middleware
    first) is matched with ``match``, the app's ``router.match``, to find its route. A
    streaming answer goes to ``streamed`` first.
    """

    cdef public RequestTally tally
    cdef public object match
    cdef public object streamed

    def __init__(self, RequestTally tally, match, streamed):
        self.tally = tally
        self.match = match
        self.streamed = streamed

    def __call__(self, request, response, double started):
        """Count one answered request that began at ``started`` (``time.perf_counter()``)."""
        cdef RequestCore core
        if isinstance(request, RequestCore):  # the dispatcher's: fields read in C
            core = <RequestCore>request
            method = core.method
            endpoint = core.endpoint
        else:
            method = request.method
            endpoint = request.endpoint
        if endpoint is None:  # not routed (a middleware answered), or no route matches
            endpoint = self.match(method, request.path)[0]
        if endpoint is None:
            route = UNMATCHED
            if method not in STANDARD_METHODS:  # each invented method would make new series
                method = OTHER_METHOD
        else:
            route = endpoint.template
        if isinstance(response, ResponseCore):
            status = (<ResponseCore>response).status_code
        else:
            status = response.status_code
        key = (method, route, status)
        # A type check without isinstance's __instancecheck__ lookup.
        if (
            PyObject_TypeCheck(response, <PyTypeObject*>StreamingResponse)
            and self.streamed(response, key, started)
        ):
            return
        self.tally._add(key, <double>perf_counter() - started)
