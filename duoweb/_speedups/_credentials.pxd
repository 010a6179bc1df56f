# Declarations shared with the compiled dispatcher (cimport), which calls gated handlers in C.

cdef class CredentialGate:
    cdef readonly object scheme
    cdef readonly str header
    cdef readonly int check
    cdef readonly object handler
    cdef readonly tuple names
    cdef readonly bint by_position
    cdef object _environ_key
    cdef object _scope_name

    cdef object _environ_value(self, object environ)
    cdef object _scope_value(self, object scope)
    cdef object _value_of(self, object request)
    cdef object credential_of(self, object request)
    cdef object call_handler(self, dict found, object request)
