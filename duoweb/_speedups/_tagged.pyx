# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""The responder of an ETag route with a path-parameters-only ``def`` handler: compiled.

Same API and behaviour as the pure twin, ``duoweb._tagged_py``. ``respond`` is a method of a
compiled class, so the dispatcher's call of it costs no Python frame, and the handler is
called without copying its keyword arguments when it takes none.
"""

from cpython.object cimport PyObject


cdef extern from "Python.h":
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf, PyObject* kwnames)
    Py_ssize_t PyDict_GET_SIZE(object mapping)

from duoweb.caching import NotModifiedResponse, if_none_match_hits, strong_etag
from duoweb.responses import JSON_HEADERS, Response
from duoweb.return_types import ENCODE_ERRORS

__all__ = ["TaggedResponder"]

(CONTENT_TYPE_FIELD,) = JSON_HEADERS
# Bound once: a call per response, without the class attribute lookup.
_new_response = Response.from_checked_parts


cdef class TaggedResponder:
    """Answers one route's requests with a strong ETag, and 304 to a matching If-None-Match.

    As ``duoweb._tagged_py.TaggedResponder``, which says what it does in detail.
    """

    cdef object _handler
    cdef object _plan
    cdef object _encode
    cdef object _status
    cdef object _finish
    cdef object _content_type
    # (body, tag, the ETag field), replaced as one: threads always see a matching set.
    cdef tuple _last

    def __init__(self, handler, plan, finish):
        self._handler = handler
        self._plan = plan
        self._encode = plan.encoder
        self._status = plan.status_code
        self._finish = finish
        self._content_type = CONTENT_TYPE_FIELD
        empty = b""
        tag = strong_etag(empty)
        self._last = (empty, tag, ("etag", tag))

    def respond(self, request):
        """The answer to ``request``: the handler's result, tagged, or a 304."""
        cdef tuple last
        found = request.path_params
        if type(found) is dict and PyDict_GET_SIZE(found) == 0:
            result = PyObject_Vectorcall(self._handler, NULL, 0, NULL)
        else:
            result = self._handler(**found)
        if isinstance(result, Response) or result is None:
            return self._finish(request, self._plan.render(result))
        try:
            body = self._encode(result)
        except ENCODE_ERRORS as exc:
            raise self._plan.broken(exc) from exc
        status = self._status
        if status != 200:
            return _new_response(status, body, [self._content_type])
        last = self._last
        if body != last[0]:
            tag = strong_etag(body)
            last = self._last = (body, tag, ("etag", tag))
        response = _new_response(200, body, [self._content_type, last[2]])
        condition = request.header("if-none-match")
        if condition is None:
            return response
        if condition == last[1] or if_none_match_hits(condition, last[1]):
            return NotModifiedResponse(response)
        return response
