# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True
"""Compiled header, query and cookie parsing: the twin of ``duoweb._headers_py``.

Same API, same results, same exception classes as the pure module (which is the typed source
of truth and the reference); this one works on the str/bytes buffers directly. The rules are
documented in ``docs/parsing.md``.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.string cimport memchr, memcmp

import operator
from collections.abc import Mapping
from datetime import UTC, datetime

from duoweb._header_errors import (
    InvalidContentLength,
    InvalidCookie,
    TooManyQueryParameters,
    UnsafeHeader,
)

__all__ = [
    "Headers",
    "InvalidContentLength",
    "InvalidCookie",
    "QueryParams",
    "TooManyQueryParameters",
    "UnsafeHeader",
    "asgi_header",
    "best_match",
    "check_header",
    "encode_headers",
    "environ_header",
    "format_set_cookie",
    "parse_accept",
    "parse_content_length",
    "parse_content_type",
    "parse_cookie",
    "parse_query",
    "parse_qvalue",
]


cdef extern from "Python.h":
    int PyUnicode_READY(object) except -1
    int PyUnicode_KIND(object) nogil
    void* PyUnicode_DATA(object) nogil
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index) nogil
    str PyUnicode_DecodeLatin1(const char* s, Py_ssize_t size, const char* errors)
    str PyUnicode_DecodeUTF8(const char* s, Py_ssize_t size, const char* errors)
    str PyUnicode_DecodeASCII(const char* s, Py_ssize_t size, const char* errors)
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t* size) except NULL
    dict PyDict_Copy(object)
    PyObject* PyDict_SetDefault(object d, object key, object default) except NULL
    tuple PyList_AsTuple(object)
    const Py_ssize_t PY_SSIZE_T_MAX

cdef enum:
    KIND_1BYTE = 1
    STACK_BUFFER = 512
    NAME_BUFFER = 128

# -- Character tables --------------------------------------------------------------------------

cdef unsigned char TCHAR[256]     # RFC 9110 tchar
cdef unsigned char LOWER[256]     # ASCII-only lowercase
cdef unsigned char UPPER[256]     # ASCII-only uppercase
cdef signed char HEX[256]         # hex digit value or -1
cdef unsigned char COOKIE_OCTET[256]  # RFC 6265 cookie-octet
cdef unsigned char ATTR_CHAR[256]     # RFC 6265 path-value / domain: CHAR but CTLs and ";"


cdef void _init_tables() noexcept:
    cdef int i
    cdef bytes tchars = (
        b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    )
    for i in range(256):
        TCHAR[i] = 0
        LOWER[i] = <unsigned char>i
        UPPER[i] = <unsigned char>i
        HEX[i] = -1
        COOKIE_OCTET[i] = (
            i == 0x21
            or 0x23 <= i <= 0x2B
            or 0x2D <= i <= 0x3A
            or 0x3C <= i <= 0x5B
            or 0x5D <= i <= 0x7E
        )
        ATTR_CHAR[i] = 0x20 <= i <= 0x7E and i != 0x3B
    for i in range(26):
        LOWER[65 + i] = <unsigned char>(97 + i)
        UPPER[97 + i] = <unsigned char>(65 + i)
    for i in range(len(tchars)):
        TCHAR[<unsigned char>tchars[i]] = 1
    for i in range(10):
        HEX[48 + i] = <signed char>i
    for i in range(6):
        HEX[65 + i] = <signed char>(10 + i)
        HEX[97 + i] = <signed char>(10 + i)


_init_tables()

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}
cdef str _CONTENT_TYPE = "CONTENT_TYPE"
cdef str _CONTENT_LENGTH = "CONTENT_LENGTH"
cdef str _EMPTY = ""
cdef str _COMMA = ","


cdef inline bint _is_tchar(Py_UCS4 c) noexcept nogil:
    return c < 256 and TCHAR[c] != 0


cdef inline bint _is_ows(Py_UCS4 c) noexcept nogil:
    return c == 32 or c == 9


cdef str _lower(str text):
    """Lowercase ASCII letters only (HTTP case-insensitivity, never Unicode folding)."""
    cdef Py_ssize_t i, n = len(text)
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 c
    for i in range(n):
        c = PyUnicode_READ(kind, data, i)
        if 65 <= c <= 90:
            break
    else:
        return text
    if text.isascii():
        return text.lower()
    return text.translate(_ASCII_LOWER)


cdef inline void _append_trimmed(
    list out, str text, Py_ssize_t a, Py_ssize_t b, int kind, void* data
):
    while a < b and _is_ows(PyUnicode_READ(kind, data, a)):
        a += 1
    while b > a and _is_ows(PyUnicode_READ(kind, data, b - 1)):
        b -= 1
    if b > a:
        out.append(text[a:b])


cdef list _split_list(str value):
    """Split an RFC 9110 list value into trimmed, non-empty elements (quotes respected)."""
    cdef list out = []
    cdef Py_ssize_t n = len(value), i = 0, start = 0
    cdef int kind = PyUnicode_KIND(value)
    cdef void* data = PyUnicode_DATA(value)
    cdef bint quoted = False
    cdef Py_UCS4 c
    while i < n:
        c = PyUnicode_READ(kind, data, i)
        if quoted:
            if c == 92:  # backslash
                i += 1
            elif c == 34:
                quoted = False
        elif c == 34:
            quoted = True
        elif c == 44:
            _append_trimmed(out, value, start, i, kind, data)
            start = i + 1
        i += 1
    _append_trimmed(out, value, start, n, kind, data)
    return out


# -- Request headers ---------------------------------------------------------------------------


cdef tuple _normalize_asgi(object raw):
    """Check every ASGI pair the slow way, raising what the pure twin raises."""
    cdef list out = []
    for name, value in raw:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise TypeError("ASGI header names and values must be bytes")
        out.append((name, value))
    return tuple(out)


cdef dict _asgi_map(tuple raw):
    cdef dict combined = {}
    cdef tuple item
    cdef object previous
    for item in raw:
        key = (<bytes>item[0]).lower().decode("latin-1")
        value = <bytes>item[1]
        text = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), NULL)
        previous = combined.get(key)
        combined[key] = text if previous is None else previous + _COMMA + text
    return combined


cdef dict _environ_map(dict environ):
    cdef dict combined = {}
    cdef str rest
    cdef Py_ssize_t i, n
    cdef int kind
    cdef void* data
    cdef Py_UCS4 c
    for key, value in environ.items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        if (<str>key).startswith("HTTP_"):
            rest = (<str>key)[5:]
            if rest == _CONTENT_TYPE or rest == _CONTENT_LENGTH:
                continue
            n = len(rest)
            kind = PyUnicode_KIND(rest)
            data = PyUnicode_DATA(rest)
            for i in range(n):
                c = PyUnicode_READ(kind, data, i)
                if 97 <= c <= 122 or c == 45:
                    break
            else:
                combined[_lower(rest).replace("_", "-")] = value
        elif key == _CONTENT_TYPE:
            if value:
                combined["content-type"] = value
        elif key == _CONTENT_LENGTH and value:
            combined["content-length"] = value
    return combined


cdef object _scan_pairs(tuple raw, str name):
    """The combined value of ``name`` found by scanning checked ASGI pairs, or None."""
    cdef unsigned char key[NAME_BUFFER]
    cdef Py_ssize_t n = len(name), i
    cdef int kind = PyUnicode_KIND(name)
    cdef void* data = PyUnicode_DATA(name)
    cdef Py_UCS4 c
    cdef tuple item
    cdef object bname, bvalue, text, result = None
    cdef const unsigned char* p
    if n > NAME_BUFFER:
        return _asgi_map(raw).get(_lower(name))
    for i in range(n):
        c = PyUnicode_READ(kind, data, i)
        if c > 255:
            return None
        key[i] = LOWER[c]
    for item in raw:
        bname = <object>PyTuple_GET_ITEM(item, 0)
        if PyBytes_GET_SIZE(bname) != n:
            continue
        p = <const unsigned char*>PyBytes_AS_STRING(bname)
        for i in range(n):
            if LOWER[p[i]] != key[i]:
                break
        else:
            bvalue = <object>PyTuple_GET_ITEM(item, 1)
            text = PyUnicode_DecodeLatin1(
                PyBytes_AS_STRING(bvalue), PyBytes_GET_SIZE(bvalue), NULL
            )
            result = text if result is None else result + _COMMA + text
    return result


cdef object _environ_get(dict env, str name):
    """The value of ``name`` read from an environ by its CGI key, or None."""
    cdef char key[NAME_BUFFER + 5]
    cdef Py_ssize_t n = len(name), i
    cdef int kind = PyUnicode_KIND(name)
    cdef void* data = PyUnicode_DATA(name)
    cdef Py_UCS4 c
    cdef PyObject* found
    cdef object environ_key, value
    cdef bint cgi = False
    if n > NAME_BUFFER:
        return _environ_map(env).get(_lower(name))
    key[0] = 72  # "HTTP_"
    key[1] = 84
    key[2] = 84
    key[3] = 80
    key[4] = 95
    for i in range(n):
        c = PyUnicode_READ(kind, data, i)
        if c >= 128:
            return _environ_map(env).get(_lower(name))
        if c == 95:  # "_": never in a name made from an environ key
            return None
        key[5 + i] = 95 if c == 45 else <char>UPPER[c]
    if n == 12 and memcmp(key + 5, b"CONTENT_TYPE", 12) == 0:
        environ_key = _CONTENT_TYPE
        cgi = True
    elif n == 14 and memcmp(key + 5, b"CONTENT_LENGTH", 14) == 0:
        environ_key = _CONTENT_LENGTH
        cgi = True
    else:
        environ_key = PyUnicode_DecodeASCII(key, n + 5, NULL)
    found = PyDict_GetItem(env, environ_key)
    if found is NULL:
        return None
    value = <object>found
    if not isinstance(value, str) or (cgi and len(<str>value) == 0):
        return None
    return value


cdef inline tuple _checked_pairs(object raw):
    """An ASGI headers list as a tuple of checked (bytes, bytes) pairs; TypeError if it is not."""
    cdef tuple snapshot
    cdef object item
    if type(raw) is list:
        snapshot = PyList_AsTuple(raw)
    elif type(raw) is tuple:
        snapshot = <tuple>raw
    else:
        snapshot = tuple(raw)
    for item in snapshot:
        if (
            type(item) is not tuple
            or PyTuple_GET_SIZE(item) != 2
            or not isinstance(<object>PyTuple_GET_ITEM(item, 0), bytes)
            or not isinstance(<object>PyTuple_GET_ITEM(item, 1), bytes)
        ):
            return _normalize_asgi(snapshot)
    return snapshot


cdef inline dict _environ_dict(object environ):
    """A WSGI environ as a dict (itself when it is one); TypeError for a non-mapping."""
    if type(environ) is dict:
        return <dict>environ
    if isinstance(environ, Mapping):
        return dict(environ.items())
    raise TypeError("a WSGI environ must be a mapping")


def environ_header(environ, name):
    """``Headers.from_environ(environ).get(name)``, read with one environ lookup."""
    cdef dict env = _environ_dict(environ)
    if not isinstance(name, str):
        return None
    return _environ_get(env, <str>name)


def asgi_header(raw, name):
    """``Headers.from_asgi(raw).get(name)``, found by one scan of the pairs."""
    cdef tuple pairs = _checked_pairs(raw)
    if not isinstance(name, str):
        return None
    return _scan_pairs(pairs, <str>name)


@cython.final
cdef class Headers:
    """Read-only, case-insensitive view of request headers; repeated fields joined with ","."""

    cdef tuple _raw  # ASGI snapshot (validated pairs of bytes), or None
    cdef dict _env   # WSGI environ snapshot, or None
    cdef dict _map   # lowercase name -> combined value, built when first needed

    def __init__(self, fields=()):
        """Build a view from ``(name, value)`` string pairs or a mapping (tests, tools)."""
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        cdef dict combined = {}
        cdef object previous
        for name, value in pairs:
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("header names and values must be str")
            key = _lower(name)
            previous = combined.get(key)
            combined[key] = value if previous is None else previous + _COMMA + value
        self._map = combined
        self._raw = None
        self._env = None

    @classmethod
    def from_asgi(cls, raw):
        """View an ASGI ``scope["headers"]`` list (latin-1 bytes pairs, any name case)."""
        cdef Headers view = Headers.__new__(Headers)
        view._raw = _checked_pairs(raw)
        return view

    @classmethod
    def from_environ(cls, environ):
        """View a WSGI environ's headers: ``HTTP_*`` plus ``CONTENT_TYPE``/``CONTENT_LENGTH``."""
        cdef Headers view = Headers.__new__(Headers)
        if type(environ) is dict:
            view._env = PyDict_Copy(environ)
        else:
            view._env = _environ_dict(environ)
        return view

    cdef dict _full(self):
        if self._map is None:
            if self._raw is not None:
                self._map = _asgi_map(self._raw)
            else:
                self._map = _environ_map(self._env)
        return self._map

    cdef inline object _lookup(self, str name):
        if self._map is not None:
            return self._map.get(_lower(name))
        if self._raw is not None:
            return _scan_pairs(self._raw, name)
        return _environ_get(self._env, name)

    def get(self, name, default=None):
        """The field's value (repeats joined with ","), or ``default`` when absent."""
        if not isinstance(name, str):
            return default
        value = self._lookup(<str>name)
        return default if value is None else value

    def getall(self, name):
        """The field's list elements (split on "," outside quoted strings, trimmed, non-empty)."""
        if not isinstance(name, str):
            return []
        value = self._lookup(<str>name)
        return [] if value is None else _split_list(<str>value)

    def __getitem__(self, name):
        """The field's value; ``KeyError`` when absent."""
        value = self._lookup(<str>name) if isinstance(name, str) else None
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        """True when the field is present (any case)."""
        return isinstance(name, str) and self._lookup(<str>name) is not None

    def __iter__(self):
        """Iterate over the lowercase field names, in first-seen order."""
        return iter(self._full())

    def __len__(self):
        """The number of distinct field names."""
        return len(self._full())

    def keys(self):
        """The lowercase field names."""
        return self._full().keys()

    def values(self):
        """The combined field values."""
        return self._full().values()

    def items(self):
        """``(lowercase name, combined value)`` pairs."""
        return self._full().items()

    def __eq__(self, other):
        """Equal to another view or mapping with the same lowercase names and values."""
        if isinstance(other, Headers):
            return self._full() == (<Headers>other)._full()
        if isinstance(other, Mapping):
            return self._full() == dict(other.items())
        return NotImplemented

    def __ne__(self, other):
        """The negation of ``__eq__``."""
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __repr__(self):
        """``Headers({...})`` with the lowercase names and combined values."""
        return f"Headers({self._full()!r})"


Mapping.register(Headers)


# -- Query strings -----------------------------------------------------------------------------


@cython.final
cdef class QueryParams:
    """Read-only multi-valued mapping of query parameters; ``get`` returns the FIRST value."""

    cdef list _items
    cdef dict _first

    def __init__(self, items=()):
        """Build from ``(name, value)`` string pairs, in order."""
        cdef list pairs = []
        cdef dict first = {}
        for name, value in items:
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("query parameter names and values must be str")
            pairs.append((name, value))
            PyDict_SetDefault(first, name, value)
        self._items = pairs
        self._first = first

    def get(self, name, default=None):
        """The first value given for ``name``, or ``default``."""
        if not isinstance(name, str):
            return default
        cdef PyObject* found = PyDict_GetItem(self._first, name)
        return default if found is NULL else <object>found

    def getall(self, name):
        """Every value given for ``name``, in order (empty list when absent)."""
        if not isinstance(name, str) or name not in self._first:
            return []
        return [value for key, value in self._items if key == name]

    def multi_items(self):
        """Every ``(name, value)`` pair, in order, repeats included."""
        return list(self._items)

    def __getitem__(self, name):
        """The first value for ``name``; ``KeyError`` when absent."""
        if not isinstance(name, str):
            raise KeyError(name)
        return self._first[name]

    def __contains__(self, name):
        """True when ``name`` was given at least once."""
        return isinstance(name, str) and name in self._first

    def __iter__(self):
        """Iterate over the distinct names, in first-seen order."""
        return iter(self._first)

    def __len__(self):
        """The number of distinct names."""
        return len(self._first)

    def keys(self):
        """The distinct names."""
        return self._first.keys()

    def values(self):
        """The first value of each distinct name."""
        return self._first.values()

    def items(self):
        """``(name, first value)`` pairs; see ``multi_items`` for every pair."""
        return self._first.items()

    def __eq__(self, other):
        """Equal to another QueryParams with the same pairs, or a mapping of first values."""
        if isinstance(other, QueryParams):
            return self._items == (<QueryParams>other)._items
        if isinstance(other, Mapping):
            return self._first == dict(other.items())
        return NotImplemented

    def __ne__(self, other):
        """The negation of ``__eq__``."""
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __repr__(self):
        """``QueryParams([...])`` with every pair."""
        return f"QueryParams({self._items!r})"


Mapping.register(QueryParams)


cdef str _decode_component(const unsigned char* p, Py_ssize_t n, char* buf):
    """Decode one query component: ``+`` is a space, bad ``%`` escapes stay, bad UTF-8 is U+FFFD."""
    cdef Py_ssize_t k = 0, o = 0
    cdef unsigned char c
    cdef signed char hi, lo
    if n == 0:
        return _EMPTY
    while k < n:
        c = p[k]
        if c == 43 or c == 37:  # "+" or "%"
            break
        k += 1
    else:
        return PyUnicode_DecodeUTF8(<const char*>p, n, "replace")
    for o in range(k):
        buf[o] = <char>p[o]
    o = k
    while k < n:
        c = p[k]
        if c == 43:
            buf[o] = 32
        elif c == 37 and k + 2 < n:
            hi = HEX[p[k + 1]]
            lo = HEX[p[k + 2]]
            if hi >= 0 and lo >= 0:
                buf[o] = <char>(hi * 16 + lo)
                o += 1
                k += 3
                continue
            buf[o] = 37
        else:
            buf[o] = <char>c
        o += 1
        k += 1
    return PyUnicode_DecodeUTF8(buf, o, "replace")


def parse_query(raw, max_params=1000):
    """Parse a query string (``&``-separated, ``+`` and ``%XX`` decoded, UTF-8) into QueryParams."""
    cdef Py_ssize_t bound, n, pos, end, eq, count = 0
    cdef const unsigned char* data
    cdef const unsigned char* hit
    cdef char stack[STACK_BUFFER]
    cdef char* buf = stack
    cdef list pairs = []
    cdef dict first = {}
    cdef str key, text
    cdef QueryParams params
    limit = max_params if type(max_params) is int else operator.index(max_params)
    if limit > PY_SSIZE_T_MAX:
        bound = PY_SSIZE_T_MAX
    elif limit < -1:
        bound = -1
    else:
        bound = limit
    if isinstance(raw, str):
        try:
            data = <const unsigned char*>PyUnicode_AsUTF8AndSize(raw, &n)
        except UnicodeEncodeError:
            raw = (<str>raw).encode("utf-8", "surrogatepass")
            data = <const unsigned char*>PyBytes_AS_STRING(raw)
            n = PyBytes_GET_SIZE(raw)
    elif isinstance(raw, bytes):
        data = <const unsigned char*>PyBytes_AS_STRING(raw)
        n = PyBytes_GET_SIZE(raw)
    else:
        raise TypeError("the query string must be bytes or str")
    if n > STACK_BUFFER:
        buf = <char*>PyMem_Malloc(n)
        if buf is NULL:
            raise MemoryError()
    try:
        pos = 0
        while pos < n:
            hit = <const unsigned char*>memchr(data + pos, 38, n - pos)  # "&"
            end = n if hit is NULL else hit - data
            if end > pos:
                count += 1
                if count > bound:
                    raise TooManyQueryParameters(
                        f"more than {limit} query parameters in the request"
                    )
                hit = <const unsigned char*>memchr(data + pos, 61, end - pos)  # "="
                if hit is NULL:
                    key = _decode_component(data + pos, end - pos, buf)
                    text = _EMPTY
                else:
                    eq = hit - data
                    key = _decode_component(data + pos, eq - pos, buf)
                    text = _decode_component(data + eq + 1, end - eq - 1, buf)
                pairs.append((key, text))
                PyDict_SetDefault(first, key, text)
            pos = end + 1
    finally:
        if buf is not stack:
            PyMem_Free(buf)
    params = QueryParams.__new__(QueryParams)
    params._items = pairs
    params._first = first
    return params


# -- Content-Type, Content-Length, Accept ------------------------------------------------------


cdef Py_ssize_t _skip_ows(int kind, void* data, Py_ssize_t i, Py_ssize_t n) noexcept:
    while i < n and _is_ows(PyUnicode_READ(kind, data, i)):
        i += 1
    return i


cdef inline bint _qd_ok(Py_UCS4 c) noexcept nogil:
    """qdtext or the escaped char of a quoted-pair: HTAB, SP..~ but DEL, obs-text (and beyond)."""
    return c == 9 or (c >= 0x20 and c != 0x7F)


cdef str _unescape(str text, Py_ssize_t start, Py_ssize_t end):
    """text[start:end] with every quoted-pair (backslash + char) replaced by the char."""
    cdef list chunks = []
    cdef Py_ssize_t i = start, run = start
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    while i < end:
        if PyUnicode_READ(kind, data, i) == 92:
            chunks.append(text[run:i])
            chunks.append(text[i + 1:i + 2])
            i += 2
            run = i
        else:
            i += 1
    chunks.append(text[run:end])
    return _EMPTY.join(chunks)


cdef void _parse_params(str text, Py_ssize_t i, dict out) except *:
    """Parse ``*( OWS ";" OWS [ name=value ] )`` from ``text[i]`` (a ";") into ``out``."""
    cdef Py_ssize_t n = len(text), start, name_start, name_end, qstart
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 c
    cdef object value
    cdef bint escaped
    while i < n:
        i = _skip_ows(kind, data, i + 1, n)
        if i >= n:
            return
        if PyUnicode_READ(kind, data, i) == 59:  # ";"
            continue
        name_start = i
        while i < n and _is_tchar(PyUnicode_READ(kind, data, i)):
            i += 1
        name_end = i
        i = _skip_ows(kind, data, i, n)
        value = None
        if name_end > name_start and i < n and PyUnicode_READ(kind, data, i) == 61:  # "="
            i = _skip_ows(kind, data, i + 1, n)
            if i < n and PyUnicode_READ(kind, data, i) == 34:
                i += 1
                qstart = i
                escaped = False
                while i < n:
                    c = PyUnicode_READ(kind, data, i)
                    if c == 34:
                        value = _unescape(text, qstart, i) if escaped else text[qstart:i]
                        i += 1
                        break
                    if c == 92:
                        if i + 1 < n and _qd_ok(PyUnicode_READ(kind, data, i + 1)):
                            escaped = True
                            i += 2
                            continue
                        break
                    if _qd_ok(c):
                        i += 1
                        continue
                    break
            else:
                start = i
                while i < n and _is_tchar(PyUnicode_READ(kind, data, i)):
                    i += 1
                if i > start:
                    value = text[start:i]
            if value is not None:
                i = _skip_ows(kind, data, i, n)
                if i < n and PyUnicode_READ(kind, data, i) != 59:
                    value = None
        if value is None:
            while i < n and PyUnicode_READ(kind, data, i) != 59:
                i += 1
            if i >= n:
                return
            continue
        key = _lower(text[name_start:name_end])
        PyDict_SetDefault(out, key, value)


cdef str _media_type(str text, Py_ssize_t* semi_out):
    """The lowercased ``type/subtype`` before the first ";", or None when not token/token."""
    cdef Py_ssize_t n = len(text), semi = 0, a, b, slash, i
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef bint upper = False
    cdef Py_UCS4 c
    while semi < n and PyUnicode_READ(kind, data, semi) != 59:
        semi += 1
    semi_out[0] = semi
    a = _skip_ows(kind, data, 0, semi)
    b = semi
    while b > a and _is_ows(PyUnicode_READ(kind, data, b - 1)):
        b -= 1
    slash = -1
    for i in range(a, b):
        c = PyUnicode_READ(kind, data, i)
        if c == 47:  # "/"
            if slash >= 0:
                return None
            slash = i
        elif not _is_tchar(c):
            return None
        elif 65 <= c <= 90:
            upper = True
    if slash <= a or slash >= b - 1:
        return None
    if upper:
        return text[a:b].lower()
    return text[a:b]


def parse_content_type(str value not None):
    """Parse a media type into ``("type/subtype", {param: value})``; ``("", {})`` when invalid."""
    cdef Py_ssize_t semi
    cdef str media_type = _media_type(value, &semi)
    cdef dict params = {}
    if media_type is None:
        return _EMPTY, params
    if semi < len(value):
        _parse_params(value, semi, params)
    return media_type, params


def parse_content_length(str value not None):
    """Parse a Content-Length: one or more ASCII digits and nothing else (else ValueError)."""
    cdef Py_ssize_t n = len(value), i
    cdef const unsigned char* data
    cdef unsigned char c
    cdef long long total = 0
    if n == 0 or PyUnicode_KIND(value) != KIND_1BYTE:
        raise InvalidContentLength(f"invalid Content-Length {value[:40]!r}")
    data = <const unsigned char*>PyUnicode_DATA(value)
    for i in range(n):
        c = data[i]
        if c < 48 or c > 57:
            raise InvalidContentLength(f"invalid Content-Length {value[:40]!r}")
        total = total * 10 + (c - 48) if n <= 18 else 0
    if n <= 18:
        return total
    try:
        return int(value)
    except ValueError:  # more digits than int() accepts (sys.get_int_max_str_digits)
        raise InvalidContentLength(f"Content-Length too long ({n} digits)") from None


cdef int _qvalue_milli(str text):
    """The RFC 9110 qvalue in ``text`` in thousandths (0..1000), or -1 when malformed."""
    cdef Py_ssize_t n = len(text), j
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 first, d
    cdef int milli = 0
    if n == 0 or n > 5:
        return -1
    first = PyUnicode_READ(kind, data, 0)
    if first != 48 and first != 49:
        return -1
    if n == 1:
        return 1000 if first == 49 else 0
    if PyUnicode_READ(kind, data, 1) != 46:
        return -1
    for j in range(3):
        milli *= 10
        if 2 + j < n:
            d = PyUnicode_READ(kind, data, 2 + j)
            if d < 48 or d > 57:
                return -1
            milli += <int>d - 48
    if first == 49:
        return 1000 if milli == 0 else -1
    return milli


cdef list _parse_accept(str value):
    cdef list elements = _split_list(value)
    cdef Py_ssize_t count = len(elements), index, kept = 0, j, semi, length
    cdef int* keys
    cdef int milli, level, key_a, key_b, parsed, t, swap
    cdef list entries = []
    cdef list result
    cdef str element, media_range
    cdef dict params
    cdef bint main_star, sub_star
    if count == 0:
        return []
    keys = <int*>PyMem_Malloc(count * 4 * sizeof(int))
    if keys is NULL:
        raise MemoryError()
    try:
        for index in range(count):
            element = <str>elements[index]
            media_range = _media_type(element, &semi)
            if media_range is None:
                continue
            length = len(media_range)
            main_star = media_range[0] == "*" and media_range[1] == "/"
            sub_star = media_range[length - 1] == "*" and media_range[length - 2] == "/"
            if main_star and not sub_star:
                continue
            params = {}
            if semi < len(element):
                _parse_params(element, semi, params)
            milli = 1000
            raw_q = params.pop("q", None)
            if raw_q is not None:
                parsed = _qvalue_milli(<str>raw_q)
                if parsed >= 0:
                    milli = parsed
            level = (not main_star) + (not sub_star)
            keys[kept * 4] = milli
            keys[kept * 4 + 1] = level
            keys[kept * 4 + 2] = <int>len(params)
            keys[kept * 4 + 3] = <int>kept
            entries.append((media_range, milli / 1000.0, params))
            kept += 1
        # Stable insertion sort by (q desc, level desc, param count desc); lists are short.
        for index in range(1, kept):
            j = index
            while j > 0:
                key_a = keys[(j - 1) * 4]
                key_b = keys[j * 4]
                if key_a > key_b:
                    break
                if key_a == key_b:
                    key_a = keys[(j - 1) * 4 + 1]
                    key_b = keys[j * 4 + 1]
                    if key_a > key_b:
                        break
                    if key_a == key_b and keys[(j - 1) * 4 + 2] >= keys[j * 4 + 2]:
                        break
                for t in range(4):
                    swap = keys[(j - 1) * 4 + t]
                    keys[(j - 1) * 4 + t] = keys[j * 4 + t]
                    keys[j * 4 + t] = swap
                j -= 1
        result = [entries[keys[index * 4 + 3]] for index in range(kept)]
    finally:
        PyMem_Free(keys)
    return result


def parse_accept(str value not None):
    """Parse an Accept header into ``(media_range, q, params)`` tuples, best first."""
    return _parse_accept(value)


def parse_qvalue(str text not None):
    """The RFC 9110 ``qvalue`` in ``text`` (0..1, at most 3 decimals), or None when malformed."""
    cdef int milli = _qvalue_milli(text)
    return None if milli < 0 else milli / 1000.0


cdef dict _OFFERS = {}


cdef bint _params_match(dict wanted, dict offered):
    """True when the offer carries every parameter of the media range, with equal values."""
    cdef PyObject* found
    for k, v in wanted.items():
        found = PyDict_GetItem(offered, k)
        if found is NULL or <object>found != v:
            return False
    return True


cdef tuple _offer(offer):
    """``(main, sub, params)`` of a server offer, or None when it is not a media type; cached."""
    cdef PyObject* found = PyDict_GetItem(_OFFERS, offer) if type(offer) is str else NULL
    cdef str media_type
    cdef Py_ssize_t semi, slash
    cdef dict params
    cdef tuple parsed
    if found is not NULL:
        return <tuple>found
    if not isinstance(offer, str):
        raise TypeError("the header value must be str")
    media_type = _media_type(<str>offer, &semi)
    if media_type is None:
        parsed = None
    else:
        params = {}
        if semi < len(<str>offer):
            _parse_params(<str>offer, semi, params)
        slash = media_type.find("/")
        parsed = (media_type[:slash], media_type[slash + 1:], params)
    if type(offer) is str:
        if len(_OFFERS) >= 1024:
            _OFFERS.clear()
        _OFFERS[offer] = parsed
    return parsed


def best_match(accept, offers):
    """The offer the client prefers per its Accept header (RFC 9110 12.5.1), or None.

    Each offer takes the q of the most specific range that matches it; the highest q > 0 wins,
    ties go to the more specific match, then to the earlier offer. No (or an empty) Accept
    header accepts anything: the first valid offer wins.
    """
    cdef list ranges
    cdef list split = []
    cdef tuple parsed, entry
    cdef double best_q = 0.0, match_q
    cdef int best_level = -1, best_count = -1, match_level, match_count, level
    cdef Py_ssize_t slash
    cdef str media_range, main, sub
    cdef dict params, offer_params
    if accept is None:
        ranges = []
    elif isinstance(accept, str):
        ranges = _parse_accept(<str>accept)
    else:
        raise TypeError("the header value must be str")
    for entry in ranges:
        media_range = <str>entry[0]
        slash = media_range.find("/")
        split.append((media_range[:slash], media_range[slash + 1:], entry[1], entry[2]))
    best = None
    for offer in offers:
        parsed = _offer(offer)
        if parsed is None:
            continue
        if not ranges:
            return offer
        main = <str>parsed[0]
        sub = <str>parsed[1]
        offer_params = <dict>parsed[2]
        match_q = -1.0
        match_level = -1
        match_count = -1
        for entry in split:
            if entry[0] == "*":
                level = 0
            elif entry[0] != main:
                continue
            elif entry[1] == "*":
                level = 1
            elif entry[1] != sub:
                continue
            else:
                level = 2
            params = <dict>entry[3]
            if params and not _params_match(params, offer_params):
                continue
            if level > match_level or (level == match_level and len(params) > match_count):
                match_level = level
                match_count = len(params)
                match_q = entry[2]
        if match_q <= 0.0:
            continue
        if match_q > best_q or (
            match_q == best_q
            and (
                match_level > best_level
                or (match_level == best_level and match_count > best_count)
            )
        ):
            best = offer
            best_q = match_q
            best_level = match_level
            best_count = match_count
    return best


# -- Cookies -----------------------------------------------------------------------------------


def parse_cookie(str value not None):
    """Parse a Cookie header (RFC 6265 5.4, leniently): the first occurrence of a name wins."""
    cdef dict cookies = {}
    cdef Py_ssize_t n = len(value), pos = 0, end, eq, a, b
    cdef int kind = PyUnicode_KIND(value)
    cdef void* data = PyUnicode_DATA(value)
    cdef Py_UCS4 c
    cdef str name
    while pos <= n:
        end = pos
        eq = -1
        while end < n:
            c = PyUnicode_READ(kind, data, end)
            if c == 59:  # ";"
                break
            if c == 61 and eq < 0:  # "="
                eq = end
            end += 1
        if eq >= 0:
            a = pos
            b = eq
            while a < b and _is_ows(PyUnicode_READ(kind, data, a)):
                a += 1
            while b > a and _is_ows(PyUnicode_READ(kind, data, b - 1)):
                b -= 1
            if b > a:
                name = value[a:b]
                if name not in cookies:
                    a = eq + 1
                    b = end
                    while a < b and _is_ows(PyUnicode_READ(kind, data, a)):
                        a += 1
                    while b > a and _is_ows(PyUnicode_READ(kind, data, b - 1)):
                        b -= 1
                    if (
                        b - a >= 2
                        and PyUnicode_READ(kind, data, a) == 34
                        and PyUnicode_READ(kind, data, b - 1) == 34
                    ):
                        a += 1
                        b -= 1
                    cookies[name] = value[a:b]
        pos = end + 1
    return cookies


cdef bint _all_in(str text, unsigned char* table, bint nonempty):
    """True when every char of ``text`` is latin-1 and marked in ``table``."""
    cdef Py_ssize_t n = len(text), i
    cdef const unsigned char* data
    if nonempty and n == 0:
        return False
    if PyUnicode_KIND(text) != KIND_1BYTE:
        return False
    data = <const unsigned char*>PyUnicode_DATA(text)
    for i in range(n):
        if not table[data[i]]:
            return False
    return True


cdef str _imf_fixdate(moment):
    """Format an aware or (assumed UTC) naive datetime as an RFC 9110 IMF-fixdate."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


def format_set_cookie(
    name,
    value,
    *,
    max_age=None,
    expires=None,
    path="/",
    domain=None,
    secure=False,
    httponly=False,
    samesite=None,
    partitioned=False,
):
    """Build a Set-Cookie value; InvalidCookie (ValueError) for anything that would break it."""
    cdef str inner
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError("cookie names and values must be str")
    if not _all_in(<str>name, TCHAR, True):
        raise InvalidCookie(f"cookie name {name[:40]!r} is not an RFC 9110 token")
    inner = <str>value
    if len(inner) >= 2 and inner[0] == '"' and inner[len(inner) - 1] == '"':
        inner = inner[1:len(inner) - 1]
    if not _all_in(inner, COOKIE_OCTET, False):
        raise InvalidCookie(
            f"cookie value {value[:40]!r} holds characters outside RFC 6265 cookie-octet; "
            "encode it (e.g. base64url) first"
        )
    parts = [f"{name}={value}"]
    if expires is not None:
        if isinstance(expires, datetime):
            moment = expires
        elif isinstance(expires, (int, float)) and not isinstance(expires, bool):
            moment = datetime.fromtimestamp(expires, UTC)
        else:
            raise TypeError("expires must be a datetime or a UNIX timestamp")
        parts.append("Expires=" + _imf_fixdate(moment))
    if max_age is not None:
        if not isinstance(max_age, int) or isinstance(max_age, bool):
            raise TypeError("max_age must be an int")
        parts.append(f"Max-Age={max_age}")
    if domain is not None:
        if not isinstance(domain, str) or not _all_in(<str>domain, ATTR_CHAR, True):
            raise InvalidCookie(f"invalid cookie Domain {domain!r}")
        parts.append("Domain=" + domain)
    if path is not None:
        if not isinstance(path, str) or not _all_in(<str>path, ATTR_CHAR, True):
            raise InvalidCookie(f"invalid cookie Path {path!r}")
        parts.append("Path=" + path)
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        label = _SAMESITE.get(_lower(<str>samesite)) if isinstance(samesite, str) else None
        if label is None:
            raise InvalidCookie(f"samesite must be 'lax', 'strict' or 'none', not {samesite!r}")
        if label == "None" and not secure:
            raise InvalidCookie("SameSite=None requires secure=True (browsers drop it otherwise)")
        parts.append("SameSite=" + label)
    if partitioned:
        if not secure:
            raise InvalidCookie("Partitioned requires secure=True (browsers drop it otherwise)")
        parts.append("Partitioned")
    return "; ".join(parts)


# -- Response headers --------------------------------------------------------------------------


cdef int _check(object name, object value) except -1:
    """Raise TypeError / UnsafeHeader exactly when the pure ``check_header`` does."""
    cdef Py_ssize_t n, i
    cdef const unsigned char* data
    cdef unsigned char c
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError("header names and values must be str")
    if not _all_in(<str>name, TCHAR, True):
        raise UnsafeHeader(f"invalid header name {name[:40]!r}")
    if PyUnicode_KIND(value) != KIND_1BYTE:
        raise UnsafeHeader(f"unsafe character in the value of header {name!r}")
    n = len(<str>value)
    data = <const unsigned char*>PyUnicode_DATA(value)
    for i in range(n):
        c = data[i]
        if (c < 0x20 and c != 9) or c == 0x7F:
            raise UnsafeHeader(f"unsafe character in the value of header {name!r}")
    return 0


def check_header(name, value):
    """Refuse (UnsafeHeader, a ValueError) a header that could inject or break the header block.

    The name must be an RFC 9110 token; the value must hold no CR, LF, NUL or other control
    character but HTAB, no DEL, and only latin-1 characters (what WSGI and ASGI can carry).
    """
    _check(name, value)


def encode_headers(headers):
    """Check every pair and encode it for ASGI: lowercased ASCII name, latin-1 value."""
    cdef list encoded = []
    cdef Py_ssize_t n, i
    cdef const unsigned char* src
    cdef char* dst
    cdef bytes bname
    for name, value in headers:
        _check(name, value)
        n = len(<str>name)
        src = <const unsigned char*>PyUnicode_DATA(name)
        bname = PyBytes_FromStringAndSize(NULL, n)
        dst = PyBytes_AS_STRING(bname)
        for i in range(n):
            dst[i] = <char>LOWER[src[i]]
        encoded.append(
            (bname, PyBytes_FromStringAndSize(<char*>PyUnicode_DATA(value), len(<str>value)))
        )
    return encoded
