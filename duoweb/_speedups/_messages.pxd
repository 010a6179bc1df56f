# Compiled from the pure twin duoweb/_messages_py.py (Cython's pure-Python mode): these
# declarations make its classes extension types and its helpers C functions. Also cimported
# by the other compiled modules, which fill requests in C.

cdef class RequestCore:
    cdef public object _cookies
    cdef public object _headers
    cdef public object _origin
    cdef public object _query
    cdef public object _state
    cdef public object app
    cdef public object background
    cdef public object body
    cdef public object method
    cdef public object path
    cdef public object path_params
    cdef public object query_string


cdef class ResponseCore:
    cdef public object _headers
    cdef public object body
    cdef public object status_code


cdef dict _CONTENT_TYPES
cdef dict _ENCODED_FIELDS

cpdef tuple content_type_field(str kind)
cpdef list encode_fields(list fields)
cdef void _fill(RequestCore request, object app, object method, object path, object query_string)
cdef RequestCore new_wsgi_request(type cls, object app, object environ)
cdef ResponseCore _filled(ResponseCore response, object status_code, object body, object headers)
