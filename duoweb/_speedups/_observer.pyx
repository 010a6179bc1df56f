# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""The compiled base of request observers: the twin of ``duoweb._observer_py``.

Same API and behaviour as the pure module. The compiled dispatcher calls ``observe`` of an
observer whose ``__call__`` is this class' own as a C method (no argument tuple, no float
object), and both it and ``duoweb._speedups._tally`` read the clock with ``perf_seconds``.
"""

cdef extern from *:
    """
    /* time.perf_counter() reads CLOCK_MONOTONIC on Linux: read it here without a Python
       call, converted to seconds as CPython converts it. Elsewhere (another clock) -1. */
    #if defined(__linux__)
    #include <time.h>
    static double duoweb_perf_counter(void) {
        struct timespec now;
        long long ns;
        if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
            return -1.0;
        }
        ns = (long long)now.tv_sec * 1000000000LL + (long long)now.tv_nsec;
        if (ns % 1000000000LL == 0) {
            return (double)(ns / 1000000000LL);
        }
        return (double)ns / 1e9;
    }
    #else
    static double duoweb_perf_counter(void) {
        return -1.0;
    }
    #endif
    """
    double duoweb_perf_counter() nogil

from time import perf_counter

__all__ = ["RequestObserver"]


cdef double perf_seconds() except? -1.0:
    """``time.perf_counter()``, read in C where that is the same clock."""
    cdef double now = duoweb_perf_counter()
    if now >= 0.0:
        return now
    return perf_counter()


cdef class RequestObserver:
    """Told of each answered request through ``observe``; calling it calls ``observe``."""

    cpdef observe(self, request, response, double started):
        """Take note of ``request``, answered by ``response``; dispatch began at ``started``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement observe()")

    def __call__(self, request, response, double started):
        """The same as ``observe``: what the dispatcher calls."""
        self.observe(request, response, started)
