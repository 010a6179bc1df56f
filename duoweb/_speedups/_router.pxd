# Declarations shared with the other compiled modules (cimport): the dispatcher matches in C.

cdef class Router:
    cdef object _definitions
    cdef object _table  # the compiled _Table, or None until compile()
    cdef object _lock

    cdef tuple lookup(self, str method, str path)
