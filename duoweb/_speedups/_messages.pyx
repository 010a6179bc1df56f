# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""Compiled request and response cores: the twin of ``duoweb._messages_py``.

Same API and results as the pure module (the typed source of truth and the reference). The
cores are extension types, so a request built from an environ or scope and a response built
by a handler are filled with C stores instead of Python frames.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE, PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_AsUTF8String, PyUnicode_CheckExact


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object text)  # only for an exact str (checked first)

from collections.abc import Mapping

from duoweb.headers import asgi_header, check_header, environ_header

__all__ = [
    "RequestCore",
    "ResponseCore",
    "asgi_request",
    "content_type_field",
    "decode_path_info",
    "encode_fields",
    "wsgi_request",
]

cdef dict _CONTENT_TYPES = {}
cdef dict _ENCODED_FIELDS = {}

cdef enum:
    # Bodies shorter than this get their Content-Length field from a table filled on use.
    _CACHED_LENGTHS = 4096

cdef list _LENGTH_FIELDS = [None] * _CACHED_LENGTHS
cdef list _ASGI_LENGTH_FIELDS = [None] * _CACHED_LENGTHS


cdef inline object _length_field(Py_ssize_t length):
    """The ("content-length", "<length>") field, made once per small length."""
    if length >= _CACHED_LENGTHS:
        return ("content-length", str(length))
    field = <object>PyList_GET_ITEM(_LENGTH_FIELDS, length)
    if field is None:
        field = ("content-length", str(length))
        _LENGTH_FIELDS[length] = field
    return field


cdef inline object _asgi_length_field(Py_ssize_t length):
    """The (b"content-length", b"<length>") field, made once per small length."""
    if length >= _CACHED_LENGTHS:
        return (b"content-length", str(length).encode())
    field = <object>PyList_GET_ITEM(_ASGI_LENGTH_FIELDS, length)
    if field is None:
        field = (b"content-length", str(length).encode())
        _ASGI_LENGTH_FIELDS[length] = field
    return field


def content_type_field(str kind):
    """The checked Content-Type field for a media type, computed once per distinct type."""
    field = _CONTENT_TYPES.get(kind)
    if field is None:
        value = kind
        if value.startswith("text/") and "charset" not in value:
            value += "; charset=utf-8"
        check_header("content-type", value)
        field = ("content-type", value)
        if len(_CONTENT_TYPES) < 256:  # media types come from code, but stay bounded anyway
            _CONTENT_TYPES[kind] = field
            _ENCODED_FIELDS[field] = (b"content-type", (<str>value).encode("latin-1"))
    return field


def encode_fields(list fields):
    """Checked header fields in ASGI's bytes form (Content-Type fields are encoded once)."""
    return _encode_fields(fields)


cdef inline list _encode_fields(list fields):
    cdef list encoded = []
    cdef tuple field
    for field in fields:
        pair = _ENCODED_FIELDS.get(field)
        if pair is None:
            pair = ((<str>field[0]).encode("latin-1"), (<str>field[1]).encode("latin-1"))
        encoded.append(pair)
    return encoded


def decode_path_info(str path_info):
    """PEP 3333 carries the path as latin-1 "bytes in a str"; routes are matched on UTF-8 text."""
    if path_info.isascii():
        return path_info
    try:
        raw = path_info.encode("latin-1")
    except UnicodeEncodeError:  # a server that already decoded the path
        return path_info
    return raw.decode("utf-8", "replace")


cdef class RequestCore:
    """The fields of every request; ``duoweb.Request`` adds the parsed views over them."""

    # The fields are declared in _messages.pxd.

    def __init__(self, app, method, path, query_string):
        _fill(self, app, method, path, query_string)

    def header(self, name):
        """The value of request header ``name`` (any case; repeats joined with ","), or None."""
        headers = self._headers
        if headers is not None:
            return headers.get(name)
        source = self._source
        if source is None:  # not read from an environ or scope: the subclass's own view
            return self.headers.get(name)
        if self._source_is_scope:
            return asgi_header(source["headers"], name)
        return environ_header(source, name)


cdef inline void _fill(RequestCore request, app, method, path, query_string):
    request.app = app
    request.method = method
    request.path = path
    request.query_string = query_string
    request.path_params = {}
    request.body = b""
    request._state = None
    request._origin = None
    request._headers = None
    request._query = None
    request._cookies = None
    request._source = None
    request._source_is_scope = False


def wsgi_request(type cls, app, environ):
    """A ``cls`` (which has an ``environ`` slot) for a WSGI environ, without running __init__."""
    return new_wsgi_request(cls, app, environ)


cdef RequestCore new_wsgi_request(type cls, object app, object environ):
    cdef RequestCore request
    # PEP 3333 says the environ is a dict; read a copy of anything else, keep the original.
    cdef dict env = <dict>environ if type(environ) is dict else dict(environ)
    path = env.get("PATH_INFO", "")
    query = env.get("QUERY_STRING")
    method = env["REQUEST_METHOD"]
    if not (PyUnicode_CheckExact(path) and PyUnicode_IS_ASCII(path)) and not path.isascii():
        path = decode_path_info(path)
    request = cls.__new__(cls)
    _fill(
        request,
        app,
        method,
        path,
        query.encode("latin-1", "replace") if query else b"",
    )
    request.environ = environ
    request._source = env
    return request


def asgi_request(type cls, app, scope, receive):
    """A ``cls`` (which has ``scope`` and ``receive`` slots) for an ASGI http scope."""
    cdef RequestCore request
    path = scope["path"]
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    request = cls.__new__(cls)
    _fill(request, app, scope["method"], path, scope.get("query_string", b""))
    request.scope = scope
    request.receive = receive
    request._source = scope
    request._source_is_scope = True
    return request


cdef class ResponseCore:
    """Status, header fields and body of a response; ``duoweb.Response`` adds the API."""

    # The fields (_headers, body, status_code) are declared in _messages.pxd.

    #: The class's own Content-Type field (set per subclass by ``Response``).
    _default_content_type = None

    def __init__(self, content=b"", status_code=200, headers=None, media_type=None):
        if not 100 <= status_code <= 999:
            raise ValueError(f"status code must be three digits, not {status_code}")
        self.status_code = status_code
        if type(content) is bytes:
            self.body = content
        elif isinstance(content, str):
            self.body = PyUnicode_AsUTF8String(content)
        else:
            self.body = bytes(content)
        if media_type is None:
            default = type(self)._default_content_type
            self._headers = [] if default is None else [default]
        else:
            self._headers = [content_type_field(media_type)]
        if headers is not None:
            items = headers.items() if isinstance(headers, Mapping) else headers
            append = self.append_header
            for name, value in items:
                append(name, value)

    @classmethod
    def from_checked_parts(cls, status_code, body, headers):
        """Build from parts already validated: status, body and fields are not checked again."""
        cdef ResponseCore response = cls.__new__(cls)
        response.status_code = status_code
        response.body = body
        response._headers = headers
        return response

    def append_header(self, name, value):
        """Add a value for header ``name`` (for repeatable fields such as Set-Cookie)."""
        check_header(name, value)
        self._headers.append((name.lower(), value))

    cpdef header_list(self):
        """The header fields to send, Content-Length included (RFC 9110 forbids it on 1xx/204)."""
        status = self.status_code
        if status == 204 or status == 304 or status < 200:
            return self._headers
        fields = self._headers
        if type(fields) is not list:
            return [*fields, _length_field(len(self.body))]
        # A list one longer than the fields, filled in place: no copy grown by an append.
        cdef Py_ssize_t count = PyList_GET_SIZE(fields)
        cdef Py_ssize_t index
        cdef list headers = PyList_New(count + 1)
        for index in range(count):
            field = <object>PyList_GET_ITEM(fields, index)
            Py_INCREF(field)
            PyList_SET_ITEM(headers, index, field)
        field = _length_field(len(self.body))
        Py_INCREF(field)
        PyList_SET_ITEM(headers, count, field)
        return headers

    def asgi_header_list(self):
        """``header_list()`` encoded for ASGI; every field was checked when it was added."""
        cdef list encoded = _encode_fields(self._headers)
        status = self.status_code
        if not (status == 204 or status == 304 or status < 200):
            encoded.append(_asgi_length_field(len(self.body)))
        return encoded
