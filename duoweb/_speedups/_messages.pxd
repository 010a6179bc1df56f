# Declarations shared with the other compiled modules (cimport), which fill requests in C.

cdef class RequestCore:
    cdef public object _cookies
    cdef public object _headers
    cdef public object _origin
    cdef public object _query
    cdef object _source
    cdef bint _source_is_scope
    cdef public object _state
    cdef public object app
    cdef public object background
    cdef public object body
    cdef public object endpoint
    cdef public object method
    cdef public object path
    cdef public object path_params
    cdef public object query_string


cdef class ResponseCore:
    cdef public object _headers
    cdef public object body
    cdef public object status_code

    cpdef header_list(self)


cdef RequestCore new_wsgi_request(type cls, object app, object environ)
