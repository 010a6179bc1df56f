# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled credential gate: the twin of ``duoweb._credentials_py``.

Same API and behaviour as the pure module (the typed source of truth and the reference); the
bearer token check reads the str's buffer directly, and the compiled dispatcher calls a gated
handler from C (``CredentialGate.call_handler``, declared in _credentials.pxd).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from libc.string cimport memcpy

from duoweb._speedups._calls cimport call_by_names
from duoweb._speedups._messages cimport RequestCore


cdef extern from "Python.h":
    PyObject* PyDict_GetItemWithError(object mapping, object key) except? NULL
    Py_ssize_t PyTuple_GET_SIZE(object tuple)
    PyObject* PyTuple_GET_ITEM(object tuple, Py_ssize_t index)
    Py_ssize_t PyList_GET_SIZE(object list)
    PyObject* PyList_GET_ITEM(object list, Py_ssize_t index)
    bint PyBytes_Check(object value)
    int PyUnicode_KIND(object) nogil
    void* PyUnicode_DATA(object) nogil
    Py_ssize_t PyUnicode_GET_LENGTH(object) nogil
    object PyUnicode_Substring(object text, Py_ssize_t start, Py_ssize_t end)
    str PyUnicode_DecodeLatin1(const char* data, Py_ssize_t size, const char* errors)
    str PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    enum:
        PyUnicode_1BYTE_KIND
        PyUnicode_2BYTE_KIND

__all__ = ["BEARER", "PLAIN", "CredentialGate", "bearer_token"]

#: The kinds of check a gate runs on the header's value.
PLAIN = 0  # any non-empty value is the credential (an API key)
BEARER = 1  # ``Bearer <b64token>`` (RFC 6750 2.1): the token is the credential

cdef enum:
    _PLAIN = 0
    _BEARER = 1

# What a credential's text holds (_bearer_span's answer).
cdef enum:
    _NO_BEARER = 0  # no bearer credential: another scheme, or none
    _TOKEN = 1  # a token, at [start, end)
    _MALFORMED = 2  # the Bearer scheme with no token or one of the wrong syntax

# RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
# Byte -> 1 for a b64token character (before the padding), 0 for any other.
cdef unsigned char _B64TOKEN[256]


cdef void _fill_b64token() noexcept:
    cdef unsigned char char
    for char in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/":
        _B64TOKEN[char] = 1


_fill_b64token()

# A character of a str's buffer (1, 2 or 4 bytes wide) or of a bytes object, as a number.
ctypedef fused _Unit:
    unsigned char
    unsigned short
    unsigned int


cdef inline bint _is_blank(unsigned int c) noexcept nogil:
    return c == 0x20 or c == 0x09


cdef int _bearer_span(
    const _Unit* data, Py_ssize_t length, Py_ssize_t* start, Py_ssize_t* end
) noexcept nogil:
    """Where the token of a ``Bearer`` credential is, in one pass over its characters."""
    cdef Py_ssize_t index
    cdef Py_ssize_t first = 7
    cdef Py_ssize_t last = length
    cdef Py_ssize_t body_end
    if length < 6:
        return _NO_BEARER
    if (  # "bearer", in any case: a character with bit 0x20 set is the lowercase letter
        (data[0] | 0x20) != 0x62  # only when it is that letter or its capital
        or (data[1] | 0x20) != 0x65
        or (data[2] | 0x20) != 0x61
        or (data[3] | 0x20) != 0x72
        or (data[4] | 0x20) != 0x65
        or (data[5] | 0x20) != 0x72
    ):
        return _NO_BEARER
    if length == 6:  # "Bearer" alone: the scheme, with no token
        return _MALFORMED
    if data[6] != 0x20:  # a longer scheme name ("Bearers")
        return _NO_BEARER
    while first < last and _is_blank(data[first]):
        first += 1
    while last > first and _is_blank(data[last - 1]):
        last -= 1
    body_end = last
    while body_end > first and data[body_end - 1] == 0x3D:  # "="
        body_end -= 1
    if body_end == first:
        return _MALFORMED
    for index in range(first, body_end):
        if data[index] > 0xFF or not _B64TOKEN[data[index]]:
            return _MALFORMED
    start[0] = first
    end[0] = last
    return _TOKEN


cdef object _bearer_token(str credential):
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(credential)
    cdef int kind = PyUnicode_KIND(credential)
    cdef void* data = PyUnicode_DATA(credential)
    cdef Py_ssize_t start = 0
    cdef Py_ssize_t end = 0
    cdef int found
    if kind == PyUnicode_1BYTE_KIND:
        found = _bearer_span(<const unsigned char*>data, length, &start, &end)
    elif kind == PyUnicode_2BYTE_KIND:
        found = _bearer_span(<const unsigned short*>data, length, &start, &end)
    else:
        found = _bearer_span(<const unsigned int*>data, length, &start, &end)
    if found != _TOKEN:
        return "" if found == _NO_BEARER else None
    if kind == PyUnicode_1BYTE_KIND:
        return _ascii_text(<const char*>data + start, end - start)
    return PyUnicode_Substring(credential, start, end)  # (never: a token is ASCII)


def bearer_token(str credential not None):
    """The token of an ``Authorization: Bearer <token>`` value: ``""`` or None if there is none.

    ``""``: no bearer credential (empty, or another auth scheme such as Basic). None: a
    ``Bearer`` value whose token is not RFC 6750 b64token syntax. The scheme name is
    case-insensitive; spaces and tabs around the token are dropped. Linear time.
    """
    return _bearer_token(credential)


cdef inline str _ascii_text(const char* data, Py_ssize_t size):
    """A str of ``size`` ASCII characters (a checked token's) copied from ``data``."""
    text = PyUnicode_New(size, 127)
    memcpy(PyUnicode_DATA(text), data, size)
    return text


cdef inline str _latin1(bytes field):
    return PyUnicode_DecodeLatin1(PyBytes_AS_STRING(field), PyBytes_GET_SIZE(field), NULL)


# What a gate's own header read answers when it cannot read the request: ask request.header().
cdef object _UNREAD = object()

# Request classes known to keep RequestCore's header(): the gate reads their source itself.
cdef object _stock_request_types = (None, None)


cdef bint _reads_stock(object request) except -1:
    """True when ``request``'s header() is RequestCore's (remembered for two classes)."""
    global _stock_request_types
    cls = type(request)
    if cls is _stock_request_types[0] or cls is _stock_request_types[1]:
        return True
    if not isinstance(request, RequestCore) or getattr(cls, "header") is not RequestCore.header:
        return False
    _stock_request_types = (cls, _stock_request_types[0])
    return True


cdef class CredentialGate:
    """A route's one header credential, read and checked before its handler is called.

    ``names`` are the handler's parameter names the gate passes: its path parameters (the
    router's captures), then the parameter the credential goes to, if any (none for a route
    or router dependency, whose value is discarded). They go by keyword; ``by_position`` says
    the handler's own signature takes them first, in this order, and then a lone credential
    (no path parameters) goes by position.
    """

    # The fields are declared in _credentials.pxd. ``_environ_key`` and ``_scope_name``: the
    # header's WSGI environ key and lowercase ASGI name, with which the gate reads a request's
    # environ or scope itself (None: a name only request.header() reads right).

    def __init__(
        self,
        scheme,
        str header not None,
        int check,
        handler,
        tuple names not None,
        bint by_position=False,
    ):
        if check != _PLAIN and check != _BEARER:
            raise ValueError(f"unknown credential check {check!r}")
        self.scheme = scheme
        self.header = header
        self.check = check
        self.handler = handler
        self.names = names
        self.by_position = by_position
        self._environ_key = None
        self._scope_name = None
        if header.isascii() and "_" not in header:  # as RequestCore.header() finds them
            lowered = header.lower()
            upper = lowered.upper().replace("-", "_")
            cgi = lowered == "content-type" or lowered == "content-length"
            self._environ_key = upper if cgi else "HTTP_" + upper
            self._scope_name = lowered.encode("ascii")

    cdef object _environ_value(self, object environ):
        """The header's value in a WSGI environ (None if absent), or _UNREAD."""
        if type(environ) is not dict or self._environ_key is None:
            return _UNREAD
        found = PyDict_GetItemWithError(environ, self._environ_key)
        if found is NULL or not isinstance(<object>found, str):
            return None
        return <object>found

    cdef object _scope_value(self, object scope):
        """The header's one field in an ASGI scope as bytes (several: their text joined with
        ","; none: None), or _UNREAD when the scope's headers are not plain pairs of bytes."""
        cdef Py_ssize_t index = 0
        cdef Py_ssize_t size
        cdef Py_ssize_t i
        cdef const unsigned char* given
        cdef const unsigned char* wanted
        cdef unsigned char c
        target = self._scope_name
        if type(scope) is not dict or target is None:
            return _UNREAD
        listed = PyDict_GetItemWithError(scope, "headers")
        if listed is NULL:
            return _UNREAD
        fields = <object>listed
        is_list = type(fields) is list
        if not is_list and type(fields) is not tuple:
            return _UNREAD
        size = PyBytes_GET_SIZE(target)
        wanted = <const unsigned char*>PyBytes_AS_STRING(target)
        value = None
        # The list's size is read at each step: a finalizer run by an allocation here could
        # shorten it (a later field then goes unread, as if sent after the scan).
        while index < (PyList_GET_SIZE(fields) if is_list else PyTuple_GET_SIZE(fields)):
            field = <object>(
                PyList_GET_ITEM(fields, index) if is_list else PyTuple_GET_ITEM(fields, index)
            )
            index += 1
            if type(field) is not tuple or PyTuple_GET_SIZE(field) != 2:
                return _UNREAD
            name = <object>PyTuple_GET_ITEM(field, 0)
            text = <object>PyTuple_GET_ITEM(field, 1)
            if not PyBytes_Check(name) or not PyBytes_Check(text):
                return _UNREAD
            if PyBytes_GET_SIZE(name) != size:
                continue
            given = <const unsigned char*>PyBytes_AS_STRING(name)
            for i in range(size):
                c = given[i]
                if c >= 0x41 and c <= 0x5A:  # A-Z
                    c += 0x20
                if c != wanted[i]:
                    break
            else:
                if value is None:
                    value = text
                else:  # a repeated field: the values joined, as RequestCore.header() does
                    if type(value) is not str:
                        value = _latin1(value)
                    value = value + "," + _latin1(text)
        return value

    cdef object _value_of(self, object request):
        """The header's text (str or None), or its one ASGI field's bytes."""
        cdef RequestCore core
        if _reads_stock(request):
            core = <RequestCore>request
            source = core._source
            if core._headers is None and source is not None:
                if core._source_is_scope:
                    value = self._scope_value(source)
                else:
                    value = self._environ_value(source)
                if value is not _UNREAD:
                    return value
        return request.header(self.header)

    cdef object credential_of(self, object request):
        cdef Py_ssize_t start = 0
        cdef Py_ssize_t end = 0
        cdef int found
        cdef const char* data
        value = self._value_of(request)
        if type(value) is bytes:  # one ASGI field: only the credential is decoded
            if PyBytes_GET_SIZE(value) == 0:
                return self.scheme.absent()
            if self.check == _PLAIN:
                return _latin1(value)
            data = PyBytes_AS_STRING(value)
            found = _bearer_span(<const unsigned char*>data, PyBytes_GET_SIZE(value), &start, &end)
            if found == _TOKEN:
                return _ascii_text(data + start, end - start)
            token = "" if found == _NO_BEARER else None
        else:
            if type(value) is str:
                if PyUnicode_GET_LENGTH(value) == 0:
                    return self.scheme.absent()
            elif not value:  # None, or what another request class's header() gives
                return self.scheme.absent()
            if self.check == _PLAIN:
                return value
            token = _bearer_token(value)
            if token is not None and PyUnicode_GET_LENGTH(token) != 0:
                return token
        if token is None:
            raise self.scheme.malformed()
        return self.scheme.absent()

    cdef object call_handler(self, dict found, object request):
        """``call``, from C: the handler called by vectorcall, the captures by name."""
        credential = self.credential_of(request)
        # A lone credential goes by position when the handler's signature takes it first.
        return call_by_names(self.handler, self.names, found, credential, self.by_position)

    def credential(self, request):
        """The credential the handler gets, the scheme's ``absent()`` value, or its 401."""
        return self.credential_of(request)

    def call(self, dict found not None, request):
        """Check the credential, then call the handler with ``found`` and it; the result."""
        return self.call_handler(found, request)

    def __repr__(self):
        kind = "bearer" if self.check == _BEARER else "plain"
        order = "by position" if self.by_position else "by keyword"
        return f"<CredentialGate {kind} {self.header!r} -> {self.names!r} {order}>"
