# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled request tallies and their dispatcher observer: the twin of ``duoweb._tally_py``.

Same API and behaviour as the pure module. A routed request is counted under its endpoint
object (one dict lookup by identity, then a scan of that endpoint's few (method, status)
series) into C counters: no key tuple, no float object per request; ``snapshot`` and
``take`` translate to (method, route template, status) labels. No lock: the GIL is held from
the lookup of a series to its last update (no Python code runs in between), so an addition
is atomic.
"""

cimport cython
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject_TypeCheck, PyTypeObject

from duoweb._speedups._messages cimport RequestCore, ResponseCore
from duoweb._speedups._observer cimport RequestObserver, perf_seconds

from duoweb.streaming import StreamingResponse

__all__ = ["OTHER_METHOD", "STANDARD_METHODS", "UNMATCHED", "RequestTally", "TallyObserver"]

UNMATCHED = "<unmatched>"
STANDARD_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
)
OTHER_METHOD = "_OTHER"


@cython.final
cdef class _Series:
    """One series' latency sum and per-bucket counts, in C; ``method`` and ``status`` label
    it among its endpoint's series (unused for a series added by label)."""

    cdef object method
    cdef long long status
    cdef Py_ssize_t size
    cdef double* values

    def __cinit__(self, Py_ssize_t size):
        self.values = <double*>PyMem_Malloc(size * sizeof(double))
        if self.values == NULL:
            raise MemoryError()
        self.size = size
        for index in range(size):
            self.values[index] = 0.0

    def __dealloc__(self):
        PyMem_Free(self.values)

    cdef list as_list(self):
        return [self.values[index] for index in range(self.size)]


cdef void _merge(dict into, tuple key, list values):
    """Add ``values`` to ``into[key]`` element-wise (two endpoints may share a label)."""
    cdef list present = into.get(key)
    if present is None:
        into[key] = values
        return
    for index in range(len(values)):
        present[index] += values[index]


cdef dict _labelled(dict routes, dict series):
    """Every series of ``routes`` (endpoint -> its series) and ``series`` (label -> one),
    by label."""
    cdef dict result = {}
    cdef _Series one
    for key, one in series.items():
        _merge(result, key, one.as_list())
    for endpoint, entries in routes.items():
        route = UNMATCHED if endpoint is None else endpoint.template
        for one in entries:
            _merge(result, (one.method, route, one.status), one.as_list())
    return result


cdef class RequestTally:
    """Latency sums and histogram bucket counts per series, safe to add to from any thread.

    Each series is a list: its latency sum, then one count per bucket of ``bounds`` (upper
    bounds in seconds, ascending) and a last one for the ``+Inf`` bucket. The counts are not
    cumulative; a series' request count is their sum.
    """

    cdef public tuple bounds
    cdef dict _series
    cdef dict _routes
    cdef double* _limits
    cdef Py_ssize_t _count

    def __cinit__(self):
        self._limits = NULL

    def __init__(self, bounds):
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"bucket bounds must be ascending and distinct, got {bounds!r}")
        cdef tuple limits = tuple(float(bound) for bound in bounds)
        cdef double* memory = <double*>PyMem_Malloc((len(limits) + 1) * sizeof(double))
        if memory == NULL:
            raise MemoryError()
        for index in range(len(limits)):
            memory[index] = limits[index]
        PyMem_Free(self._limits)
        self._limits = memory
        self._count = len(limits)
        self.bounds = limits
        self._series = {}
        self._routes = {}

    def __dealloc__(self):
        PyMem_Free(self._limits)

    cdef inline void _count_into(self, _Series series, double seconds) noexcept:
        # A value equal to a bound belongs to that bound's bucket (Prometheus' "le").
        cdef Py_ssize_t index = 0
        cdef Py_ssize_t count = self._count
        cdef double* limits = self._limits
        while index < count and seconds > limits[index]:
            index += 1
        series.values[0] += seconds
        series.values[index + 1] += 1.0

    cdef int _add_routed(self, endpoint, method, long long status, double seconds) except -1:
        """Count one request that ``endpoint`` (None: no route) answered with ``status``."""
        cdef list entries = self._routes.get(endpoint)
        cdef _Series series
        cdef Py_ssize_t index
        if entries is None:
            entries = self._routes[endpoint] = []
        for index in range(PyList_GET_SIZE(entries)):
            series = <_Series>PyList_GET_ITEM(entries, index)
            if series.status == status and (series.method is method or series.method == method):
                self._count_into(series, seconds)
                return 0
        series = _Series(self._count + 2)
        series.method = method
        series.status = status
        entries.append(series)
        self._count_into(series, seconds)
        return 0

    def add(self, key, double seconds):
        """Count one request of ``key`` that took ``seconds``."""
        cdef _Series series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(self._count + 2)
        self._count_into(series, seconds)

    def snapshot(self):
        """A copy of every series so far."""
        return _labelled(self._routes, self._series)

    def take(self):
        """Every series so far, leaving the tally empty (what a flush moves elsewhere)."""
        routes, series = self._routes, self._series
        self._routes = {}
        self._series = {}
        return _labelled(routes, series)


cdef class TallyObserver(RequestObserver):
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

    cpdef observe(self, request, response, double started):
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
            if endpoint is None and method not in STANDARD_METHODS:
                method = OTHER_METHOD  # each invented method would make new series
        if isinstance(response, ResponseCore):
            status = (<ResponseCore>response).status_code
        else:
            status = response.status_code
        cdef int overflow = 0
        cdef long long code = 0
        if type(status) is int:
            code = PyLong_AsLongLongAndOverflow(status, &overflow)
        if type(status) is not int or overflow:  # an odd status: counted under its label
            self.tally.add(self._label(method, endpoint, status), perf_seconds() - started)
            return
        # A type check without isinstance's __instancecheck__ lookup.
        if PyObject_TypeCheck(response, <PyTypeObject*>StreamingResponse) and self.streamed(
            response, self._label(method, endpoint, status), started
        ):
            return
        self.tally._add_routed(endpoint, method, code, perf_seconds() - started)

    cdef tuple _label(self, method, endpoint, status):
        return (method, UNMATCHED if endpoint is None else endpoint.template, status)
