# Declarations shared with the compiled dispatcher (cimport), which calls gated handlers in C.

cdef class CredentialGate:
    cdef readonly object scheme
    cdef readonly str header
    cdef readonly int check
    cdef readonly tuple names

    cdef object credential_of(self, object request)
    cdef object call_handler(self, object handler, dict found, object request)
