# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled credential gate: the twin of ``duoweb._credentials_py``.

Same API and behaviour as the pure module (the typed source of truth and the reference); the
bearer token check reads the str's buffer directly, and the compiled dispatcher calls a gated
handler from C (``CredentialGate.call_handler``, declared in _credentials.pxd).
"""

from duoweb._speedups._calls cimport call_by_names


cdef extern from "Python.h":
    int PyUnicode_KIND(object) nogil
    void* PyUnicode_DATA(object) nogil
    Py_ssize_t PyUnicode_GET_LENGTH(object) nogil
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index) nogil

__all__ = ["BEARER", "PLAIN", "CredentialGate", "bearer_token"]

#: The kinds of check a gate runs on the header's value.
PLAIN = 0  # any non-empty value is the credential (an API key)
BEARER = 1  # ``Bearer <b64token>`` (RFC 6750 2.1): the token is the credential

cdef enum:
    _PLAIN = 0
    _BEARER = 1

# The auth-scheme a bearer credential starts with, in either case (letter by letter).
cdef const char* _BEARER_LOWER = b"bearer"
cdef const char* _BEARER_UPPER = b"BEARER"


cdef inline bint _is_b64token_char(Py_UCS4 c) noexcept nogil:
    # RFC 6750 2.1: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"
    return (
        (c >= 0x61 and c <= 0x7A)  # a-z
        or (c >= 0x41 and c <= 0x5A)  # A-Z
        or (c >= 0x30 and c <= 0x39)  # 0-9
        or c == 0x2D or c == 0x2E or c == 0x5F or c == 0x7E or c == 0x2B or c == 0x2F
    )


cdef inline bint _is_blank(Py_UCS4 c) noexcept nogil:
    return c == 0x20 or c == 0x09


cdef object _bearer_token(str credential):
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(credential)
    cdef int kind = PyUnicode_KIND(credential)
    cdef void* data = PyUnicode_DATA(credential)
    cdef Py_ssize_t index
    cdef Py_ssize_t start
    cdef Py_ssize_t end
    cdef Py_ssize_t body_end
    cdef Py_UCS4 char
    if length < 6:
        return ""
    for index in range(6):  # the scheme is case-insensitive; only ASCII letters fold to it
        char = PyUnicode_READ(kind, data, index)
        if char != <Py_UCS4>_BEARER_LOWER[index] and char != <Py_UCS4>_BEARER_UPPER[index]:
            return ""
    if length == 6:  # "Bearer" alone: the scheme, with no token
        return None
    if PyUnicode_READ(kind, data, 6) != 0x20:  # a longer scheme name ("Bearers")
        return ""
    start = 7
    end = length
    while start < end and _is_blank(PyUnicode_READ(kind, data, start)):
        start += 1
    while end > start and _is_blank(PyUnicode_READ(kind, data, end - 1)):
        end -= 1
    body_end = end
    while body_end > start and PyUnicode_READ(kind, data, body_end - 1) == 0x3D:  # "="
        body_end -= 1
    if body_end == start:
        return None
    for index in range(start, body_end):
        if not _is_b64token_char(PyUnicode_READ(kind, data, index)):
            return None
    return credential[start:end]


def bearer_token(str credential not None):
    """The token of an ``Authorization: Bearer <token>`` value: ``""`` or None if there is none.

    ``""``: no bearer credential (empty, or another auth scheme such as Basic). None: a
    ``Bearer`` value whose token is not RFC 6750 b64token syntax. The scheme name is
    case-insensitive; spaces and tabs around the token are dropped. Linear time.
    """
    return _bearer_token(credential)


cdef class CredentialGate:
    """A route's one header credential, read and checked before its handler is called.

    ``names`` are the handler's keyword names: its path parameters (the router's captures),
    then the parameter the credential goes to, if any (none for a route or router
    dependency, whose value is discarded).
    """

    # The fields are declared in _credentials.pxd.

    def __init__(self, scheme, str header not None, int check, tuple names not None):
        if check != _PLAIN and check != _BEARER:
            raise ValueError(f"unknown credential check {check!r}")
        self.scheme = scheme
        self.header = header
        self.check = check
        self.names = names

    cdef object credential_of(self, object request):
        value = request.header(self.header)
        if not value:
            return self.scheme.absent()
        if self.check == _PLAIN:
            return value
        token = _bearer_token(value)
        if token:
            return token
        if token is None:
            raise self.scheme.malformed()
        return self.scheme.absent()

    cdef object call_handler(self, object handler, dict found, object request):
        """``call``, from C: the handler called by vectorcall, the captures by name."""
        return call_by_names(handler, self.names, found, self.credential_of(request), False)

    def credential(self, request):
        """The credential the handler gets, the scheme's ``absent()`` value, or its 401."""
        return self.credential_of(request)

    def call(self, handler, dict found not None, request):
        """Check the credential, then call ``handler`` with ``found`` and it; the result."""
        return self.call_handler(handler, found, request)

    def __repr__(self):
        kind = "bearer" if self.check == _BEARER else "plain"
        return f"<CredentialGate {kind} {self.header!r} -> {self.names!r}>"
