# Declarations shared with the other compiled modules (cimport): the dispatcher calls an
# observer's observe() as a C method, and reads the clock in C.

cdef class RequestObserver:
    cpdef observe(self, request, response, double started)


cdef double perf_seconds() except? -1.0
