# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, embedsignature=True, binding=False
"""Compiled router: the same behaviour as ``duoweb._router_py``, with the lookup in C.

Registration (``add``, ``add_converter``, ``routes``) delegates to the pure twin so both accept
and reject exactly the same tables. ``compile()`` turns the registered shapes into a trie of C
structs (static children in small arrays or hash tables), and ``match()`` walks the decoded
path's str buffer in place: segments are found, hashed and compared without creating
substrings, and the int/float/uuid converters parse the buffer directly; only parameter
values become objects. Priority at each node, with backtracking, is the same as the twin's:

    static text > uuid > int > float > custom converters (registration order) > str > path
"""

import threading
import uuid as _uuid_module

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject
from libc.math cimport isfinite
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcpy

from duoweb._route_templates import RouteDefinitionError
from duoweb._router_py import PRIORITY
from duoweb._router_py import Router as _Definitions

__all__ = ["PRIORITY", "RouteDefinitionError", "Router"]


cdef extern from "Python.h":
    int PyUnicode_KIND(object) noexcept
    void* PyUnicode_DATA(object) noexcept
    Py_ssize_t PyUnicode_GET_LENGTH(object) noexcept
    unsigned int PyUnicode_READ(int kind, const void* data, Py_ssize_t index) noexcept nogil
    int _KIND_P "PyUnicode_KIND"(PyObject*) noexcept nogil
    void* _DATA_P "PyUnicode_DATA"(PyObject*) noexcept nogil
    Py_ssize_t _LENGTH_P "PyUnicode_GET_LENGTH"(PyObject*) noexcept nogil
    object PyUnicode_Substring(object, Py_ssize_t, Py_ssize_t)
    bint PyUnicode_IS_ASCII(object) noexcept
    object PyUnicode_New(Py_ssize_t size, unsigned int maxchar)
    double PyOS_string_to_double(const char* s, char** endptr, PyObject* overflow) except? -1.0
    int PyObject_GenericSetAttr(object, object, object) except -1
    PyObject* PyDict_GetItemWithError(object, object) except? NULL
    PyObject* PyTuple_GET_ITEM(object, Py_ssize_t) noexcept
    int PyDict_SetItem(object, object, object) except -1


cdef enum:
    K_UUID = 1
    K_INT = 2
    K_FLOAT = 3
    K_CUSTOM = 4

cdef enum:
    SLASH = 47
    _SMALL = 4  # static fan-outs up to this size are searched linearly

cdef uint64_t FNV_OFFSET = 14695981039346656037ULL
cdef uint64_t FNV_PRIME = 1099511628211ULL
cdef uint64_t MIX_1 = 0x9E3779B97F4A7C15ULL
cdef uint64_t MIX_2 = 0xBF58476D1CE4E5B9ULL

# Powers of ten that doubles hold exactly: the float fast path (m * 10**e, m < 2**53).
cdef double[23] _POW10 = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

cdef tuple _MISS = (None, None)
cdef object _UUID = _uuid_module.UUID
cdef object _SAFE_UNKNOWN = _uuid_module.SafeUUID.unknown
cdef object _new_object = object.__new__
cdef str _ATTR_INT = "int"
cdef str _ATTR_IS_SAFE = "is_safe"
cdef bint _FAST_UUID = False


# -- converters on the str buffer ---------------------------------------------------------


cdef inline bint _is_digit(unsigned int c) noexcept nogil:
    return 48 <= c <= 57


cdef bint _parse_int(int kind, const void* data, Py_ssize_t start, Py_ssize_t end,
                     long long* out) noexcept nogil:
    """ASCII digits with an optional '-', within signed 64-bit; leading zeros allowed."""
    cdef Py_ssize_t i = start
    cdef bint negative = False
    cdef unsigned long long acc = 0
    cdef unsigned long long limit = 9223372036854775807ULL
    cdef unsigned long long digit
    cdef unsigned int c
    if i < end and PyUnicode_READ(kind, data, i) == 45:  # '-'
        negative = True
        limit += 1
        i += 1
    if i == end:
        return False
    while i < end:
        c = PyUnicode_READ(kind, data, i)
        if not _is_digit(c):
            return False
        digit = c - 48
        if acc > (limit - digit) // 10:
            return False
        acc = acc * 10 + digit
        i += 1
    if negative:
        if acc == 0:
            out[0] = 0
        else:
            out[0] = -<long long>(acc - 1) - 1
    else:
        out[0] = <long long>acc
    return True


cdef int _parse_float(int kind, const void* data, Py_ssize_t start, Py_ssize_t end,
                      double* out) except -1:
    """``-?D+(.D+)?([eE][+-]?D+)?`` with ASCII digits D and a finite value -> 1, else 0.

    Short inputs (<= 15 significant digits, |exponent| <= 22) are exact with one IEEE
    multiply or divide; anything else goes to CPython's correctly rounded PyOS_string_to_double,
    so the result is always the double that float() gives.
    """
    cdef Py_ssize_t i = start
    cdef Py_ssize_t mark
    cdef Py_ssize_t n = end - start
    cdef Py_ssize_t significant = 0
    cdef Py_ssize_t fraction = 0
    cdef Py_ssize_t exponent = 0
    cdef bint negative = False
    cdef bint exp_negative = False
    cdef unsigned long long mantissa = 0
    cdef unsigned int c
    cdef double value
    cdef char small[64]
    cdef char* buf
    cdef char* stop
    cdef Py_ssize_t j
    if i < end and PyUnicode_READ(kind, data, i) == 45:
        negative = True
        i += 1
    mark = i
    while i < end:
        c = PyUnicode_READ(kind, data, i)
        if not _is_digit(c):
            break
        if mantissa != 0 or c != 48:
            significant += 1
            if significant <= 15:
                mantissa = mantissa * 10 + (c - 48)
        i += 1
    if i == mark:
        return 0
    if i < end and PyUnicode_READ(kind, data, i) == 46:  # '.'
        i += 1
        mark = i
        while i < end:
            c = PyUnicode_READ(kind, data, i)
            if not _is_digit(c):
                break
            if mantissa != 0 or c != 48:
                significant += 1
                if significant <= 15:
                    mantissa = mantissa * 10 + (c - 48)
            fraction += 1
            i += 1
        if i == mark:
            return 0
    if i < end:
        c = PyUnicode_READ(kind, data, i)
        if c != 101 and c != 69:  # 'e', 'E'
            return 0
        i += 1
        if i < end:
            c = PyUnicode_READ(kind, data, i)
            if c == 43 or c == 45:
                exp_negative = c == 45
                i += 1
        mark = i
        while i < end:
            c = PyUnicode_READ(kind, data, i)
            if not _is_digit(c):
                return 0
            if exponent < 100000:
                exponent = exponent * 10 + (c - 48)
            i += 1
        if i == mark:
            return 0
        if exp_negative:
            exponent = -exponent
    exponent -= fraction
    if significant <= 15 and -22 <= exponent <= 22:
        value = <double>mantissa
        if exponent >= 0:
            value = value * _POW10[exponent]
        else:
            value = value / _POW10[-exponent]
        out[0] = -value if negative else value
        return 1
    # Slow path: every character is ASCII by now, so hand CPython a C string.
    buf = small
    if n >= 64:
        buf = <char*>PyMem_Malloc(n + 1)
        if buf == NULL:
            raise MemoryError()
    try:
        for j in range(n):
            buf[j] = <char>PyUnicode_READ(kind, data, start + j)
        buf[n] = 0
        value = PyOS_string_to_double(buf, &stop, NULL)
        if stop != buf + n:
            return 0
    finally:
        if buf != small:
            PyMem_Free(buf)
    if not isfinite(value):
        return 0
    out[0] = value
    return 1


cdef inline int _hex_value(unsigned int c) noexcept nogil:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


cdef bint _parse_uuid(int kind, const void* data, Py_ssize_t start, Py_ssize_t end,
                      uint64_t* high, uint64_t* low) noexcept nogil:
    """Canonical 8-4-4-4-12 hex, any case, into two 64-bit halves."""
    cdef Py_ssize_t j
    cdef int nibble
    cdef int count = 0
    cdef uint64_t hi = 0
    cdef uint64_t lo = 0
    cdef unsigned int c
    if end - start != 36:
        return False
    for j in range(36):
        c = PyUnicode_READ(kind, data, start + j)
        if j == 8 or j == 13 or j == 18 or j == 23:
            if c != 45:
                return False
            continue
        nibble = _hex_value(c)
        if nibble < 0:
            return False
        if count < 16:
            hi = (hi << 4) | <uint64_t>nibble
        else:
            lo = (lo << 4) | <uint64_t>nibble
        count += 1
    high[0] = hi
    low[0] = lo
    return True


cdef object _make_uuid(uint64_t high, uint64_t low, object path, Py_ssize_t start):
    """A uuid.UUID for the 128-bit value, without re-parsing text when the fast path works."""
    cdef object value
    cdef object result
    if not _FAST_UUID:
        return _UUID(PyUnicode_Substring(path, start, start + 36))
    value = (<object>high << 64) | <object>low
    result = _new_object(_UUID)
    PyObject_GenericSetAttr(result, _ATTR_INT, value)
    PyObject_GenericSetAttr(result, _ATTR_IS_SAFE, _SAFE_UNKNOWN)
    return result


def _check_fast_uuid():
    """Use the slot-filling UUID constructor only if it gives what uuid.UUID(text) gives."""
    global _FAST_UUID
    text = "0123abcd-4567-89ef-fedc-ba9876543210"
    try:
        _FAST_UUID = True
        made = _make_uuid(0x0123abcd456789ef, 0xfedcba9876543210, text, 0)
        _FAST_UUID = (
            type(made) is _UUID and made == _UUID(text) and str(made) == text
            and made.is_safe is _SAFE_UNKNOWN and hash(made) == hash(_UUID(text))
        )
    except Exception:
        _FAST_UUID = False
    return _FAST_UUID


_check_fast_uuid()


cdef inline object _substring(object path, const void* data, Py_ssize_t start, Py_ssize_t end):
    """path[start:end]; for an ASCII path, made directly (PyUnicode_Substring re-checks)."""
    cdef object text
    if end - start > 1 and PyUnicode_IS_ASCII(path):
        text = PyUnicode_New(end - start, 127)
        memcpy(PyUnicode_DATA(text), <const char*>data + start, end - start)
        return text
    return PyUnicode_Substring(path, start, end)


# -- the trie: C structs, owned by the cdef classes that build them ---------------------------


ctypedef struct CLeaf:
    # Borrowed references: the owning _Leaf object keeps all of them alive.
    PyObject* method_names  # tuple of str, HEAD included when it falls back to GET
    PyObject* endpoints     # tuple: the endpoint for each of method_names
    Py_ssize_t nmethods
    PyObject* allowed       # tuple: the 405 answer
    PyObject* names         # tuple: parameter names in path order
    Py_ssize_t count


ctypedef struct CEdge:
    int kind                # K_UUID, K_INT, K_FLOAT or K_CUSTOM
    PyObject* convert       # the custom converter (borrowed), else NULL
    CNode* child


ctypedef struct CSlot:
    uint64_t hash
    PyObject* key           # borrowed: the owning _Node's static dict keeps it alive
    CNode* child


ctypedef struct CNode:
    Py_ssize_t nstatic      # static children: scanned linearly when few (mask < 0) ...
    Py_ssize_t mask         # ... else an open-addressing table of mask + 1 slots
    CSlot* slots
    Py_ssize_t ntyped       # typed edges, in priority order: uuid, int, float, custom...
    CEdge* typed
    CNode* str_child
    CLeaf* path_leaf
    CLeaf* leaf


cdef extern from *:
    """
    static inline uint64_t duoweb_swap64(uint64_t x) {
        x = ((x & 0x00000000FFFFFFFFULL) << 32) | (x >> 32);
        x = ((x & 0x0000FFFF0000FFFFULL) << 16) | ((x >> 16) & 0x0000FFFF0000FFFFULL);
        return ((x & 0x00FF00FF00FF00FFULL) << 8) | ((x >> 8) & 0x00FF00FF00FF00FFULL);
    }
    static inline int duoweb_big_endian(void) {
        const uint16_t probe = 1;
        return *(const unsigned char *)&probe == 0;
    }
    """
    uint64_t _swap64 "duoweb_swap64"(uint64_t) noexcept nogil
    bint _big_endian "duoweb_big_endian"() noexcept nogil

cdef bint _BIG_ENDIAN = _big_endian()


cdef inline uint64_t _finish(uint64_t h) noexcept nogil:
    h ^= h >> 31
    h *= MIX_2
    h ^= h >> 29
    return h


cdef inline uint64_t _hash_segment(int kind, const void* data, Py_ssize_t start,
                                   Py_ssize_t length, Py_ssize_t limit) noexcept nogil:
    """Hash of the text data[start:start+length], the same whatever the buffer's kind.

    Text whose code points all fit in a byte is hashed as little-endian 8-byte words, the
    last one zero-padded (one-byte buffers load whole words; ``limit`` is the buffer's length,
    so a short tail followed by 8 readable bytes is one load and a mask); other text is
    hashed per code point.
    """
    cdef uint64_t h = MIX_1 ^ (<uint64_t>length * MIX_2)
    cdef uint64_t word = 0
    cdef Py_ssize_t j, k
    cdef int shift = 0
    cdef unsigned int c
    cdef const unsigned char* bytes_
    if kind == 1:
        bytes_ = <const unsigned char*>data + start
        j = 0
        while j + 8 <= length:
            memcpy(&word, bytes_ + j, 8)
            if _BIG_ENDIAN:
                word = _swap64(word)
            h = (h ^ word) * MIX_1
            j += 8
        word = 0
        if j < length:
            if start + j + 8 <= limit and not _BIG_ENDIAN:
                memcpy(&word, bytes_ + j, 8)
                word &= (<uint64_t>1 << (8 * (length - j))) - 1
            else:
                while j < length:
                    word |= (<uint64_t>bytes_[j]) << shift
                    shift += 8
                    j += 1
        return _finish((h ^ word) * MIX_1)
    for j in range(length):
        c = PyUnicode_READ(kind, data, start + j)
        if c > 255:
            h = FNV_OFFSET
            for k in range(length):  # from the start again, per code point
                h = (h ^ PyUnicode_READ(kind, data, start + k)) * FNV_PRIME
            return _finish(h ^ 1)
        word |= (<uint64_t>c) << shift
        shift += 8
        if shift == 64:
            h = (h ^ word) * MIX_1
            word = 0
            shift = 0
    return _finish((h ^ word) * MIX_1)


cdef inline uint64_t _hash_text(str text):
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(text)
    return _hash_segment(PyUnicode_KIND(text), PyUnicode_DATA(text), 0, length, length)


cdef inline bint _same_bytes(const char* a, const char* b, Py_ssize_t size) noexcept nogil:
    """memcmp(a, b, size) == 0, inlined: keys are short, a libc call costs more."""
    cdef uint64_t x
    cdef uint64_t y
    while size >= 8:
        memcpy(&x, a, 8)
        memcpy(&y, b, 8)
        if x != y:
            return False
        a += 8
        b += 8
        size -= 8
    while size > 0:
        if a[0] != b[0]:
            return False
        a += 1
        b += 1
        size -= 1
    return True


cdef inline bint _same_text(PyObject* key, int kind, const void* data, Py_ssize_t start,
                            Py_ssize_t length) noexcept:
    cdef Py_ssize_t j
    cdef int key_kind
    cdef const void* key_data
    if _LENGTH_P(key) != length:
        return False
    key_kind = _KIND_P(key)
    key_data = _DATA_P(key)
    if key_kind == kind:
        return _same_bytes(<const char*>key_data, <const char*>data + start * kind, length * kind)
    for j in range(length):
        if PyUnicode_READ(key_kind, key_data, j) != PyUnicode_READ(kind, data, start + j):
            return False
    return True


cdef inline CNode* _find_static(CNode* node, int kind, const void* data, Py_ssize_t start,
                                Py_ssize_t length, Py_ssize_t limit) noexcept:
    """The static child whose text is data[start:start+length], or NULL."""
    cdef Py_ssize_t index
    cdef uint64_t h
    cdef CSlot* slot
    if node.mask < 0:
        for index in range(node.nstatic):
            if _same_text(node.slots[index].key, kind, data, start, length):
                return node.slots[index].child
        return NULL
    h = _hash_segment(kind, data, start, length, limit)
    index = <Py_ssize_t>(h & <uint64_t>node.mask)
    while True:
        slot = &node.slots[index]
        if slot.key == NULL:
            return NULL
        if slot.hash == h and _same_text(slot.key, kind, data, start, length):
            return slot.child
        index = (index + 1) & node.mask


ctypedef struct _Captures:
    # Converted parameter values so far (owned references); a template has at most
    # MAX_SEGMENTS (255) segments, so a route never has more parameters than this holds.
    PyObject* values[256]
    Py_ssize_t count


cdef inline void _push(_Captures* captures, object value) noexcept:
    Py_INCREF(value)
    captures.values[captures.count] = <PyObject*>value
    captures.count += 1


cdef inline void _pop(_Captures* captures) noexcept:
    captures.count -= 1
    Py_XDECREF(captures.values[captures.count])


cdef inline PyObject* _endpoint_for(CLeaf* leaf, str method) noexcept:
    """The endpoint registered at ``leaf`` for ``method`` (borrowed), or NULL.

    A route has a few methods: comparing them beats hashing the adapter's fresh str.
    """
    cdef Py_ssize_t index
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(method)
    cdef int kind = PyUnicode_KIND(method)
    cdef PyObject* name
    for index in range(leaf.nmethods):
        name = PyTuple_GET_ITEM(<object>leaf.method_names, index)
        if name == <PyObject*>method or (
            _LENGTH_P(name) == length
            and _KIND_P(name) == kind
            and _same_bytes(<const char*>_DATA_P(name), <const char*>PyUnicode_DATA(method),
                            length * kind)
        ):
            return PyTuple_GET_ITEM(<object>leaf.endpoints, index)
    return NULL


cdef inline dict _params(CLeaf* leaf, _Captures* values):
    """The params dict for a hit: the leaf's names with the captured values."""
    cdef Py_ssize_t index
    cdef dict params = {}
    for index in range(leaf.count):
        PyDict_SetItem(params, <object>PyTuple_GET_ITEM(<object>leaf.names, index),
                       <object>values.values[index])
    return params


cdef int _walk(CNode* node, str path, int kind, const void* data, Py_ssize_t n,
               Py_ssize_t pos, _Captures* values, CLeaf** out) except -1:
    """Depth-first search for the first leaf matching path[pos:], capturing param values.

    ``pos`` is where the next segment starts, or -1 once the whole path is consumed. Returns
    1 with ``out[0]`` set on a match, else 0. The caller releases whatever is left in
    ``values``, also when an exception (from a custom converter) propagates.
    """
    cdef Py_ssize_t end = pos
    cdef Py_ssize_t after
    cdef Py_ssize_t index
    cdef const char* hit
    cdef CNode* child
    cdef CEdge* edge
    cdef long long int_value
    cdef double float_value
    cdef uint64_t high
    cdef uint64_t low
    cdef object value
    cdef Py_ssize_t chained = 0
    while True:
        end = pos
        if kind == 1:
            hit = <const char*>memchr(<const char*>data + pos, SLASH, n - pos)
            end = n if hit == NULL else hit - <const char*>data
        else:
            while end < n and PyUnicode_READ(kind, data, end) != SLASH:
                end += 1
        after = end + 1 if end < n else -1
        # A node whose only way on is a str parameter, with more path to come, has nothing
        # to backtrack to: take it in this loop instead of recursing.
        if (node.str_child != NULL and node.nstatic == 0 and node.ntyped == 0
                and node.path_leaf == NULL and end > pos and after >= 0):
            _push(values, _substring(path, data, pos, end))
            chained += 1
            node = node.str_child
            pos = after
            continue
        # Likewise a node whose only way on is one static child, or one int parameter.
        if node.path_leaf == NULL and node.str_child == NULL and after >= 0:
            if node.nstatic == 1 and node.ntyped == 0:
                child = _find_static(node, kind, data, pos, end - pos, n)
                if child != NULL:
                    node = child
                    pos = after
                    continue
            elif (node.nstatic == 0 and node.ntyped == 1 and node.typed[0].kind == K_INT
                    and _parse_int(kind, data, pos, end, &int_value)):
                _push(values, int_value)
                chained += 1
                node = node.typed[0].child
                pos = after
                continue
        break
    if node.nstatic:
        child = _find_static(node, kind, data, pos, end - pos, n)
        if child != NULL:
            if after < 0:
                if child.leaf != NULL:
                    out[0] = child.leaf
                    return 1
            elif _walk(child, path, kind, data, n, after, values, out):
                return 1
    if end > pos:
        for index in range(node.ntyped):
            edge = &node.typed[index]
            if edge.kind == K_INT:
                if not _parse_int(kind, data, pos, end, &int_value):
                    continue
                value = int_value
            elif edge.kind == K_FLOAT:
                if not _parse_float(kind, data, pos, end, &float_value):
                    continue
                value = float_value
            elif edge.kind == K_UUID:
                if not _parse_uuid(kind, data, pos, end, &high, &low):
                    continue
                value = _make_uuid(high, low, path, pos)
            else:
                try:
                    value = (<object>edge.convert)(_substring(path, data, pos, end))
                except ValueError:
                    continue
            child = edge.child
            if after < 0:
                if child.leaf != NULL:
                    _push(values, value)
                    out[0] = child.leaf
                    return 1
                continue
            _push(values, value)
            if _walk(child, path, kind, data, n, after, values, out):
                return 1
            _pop(values)
        child = node.str_child
        if child != NULL:
            if after < 0:
                if child.leaf != NULL:
                    _push(values, _substring(path, data, pos, end))
                    out[0] = child.leaf
                    return 1
            else:
                _push(values, _substring(path, data, pos, end))
                if _walk(child, path, kind, data, n, after, values, out):
                    return 1
                _pop(values)
    if node.path_leaf != NULL:
        _push(values, _substring(path, data, pos, n))
        out[0] = node.path_leaf
        return 1
    while chained:
        _pop(values)
        chained -= 1
    return 0


cdef class _Leaf:
    """Owner of one route shape's CLeaf and of the objects it points to."""

    cdef CLeaf c
    cdef tuple method_names
    cdef tuple endpoints
    cdef tuple allowed
    cdef tuple names

    def __cinit__(self, dict methods, tuple allowed, tuple names):
        self.method_names = tuple(methods)
        self.endpoints = tuple(methods.values())
        self.allowed = allowed
        self.names = names
        self.c.method_names = <PyObject*>self.method_names
        self.c.endpoints = <PyObject*>self.endpoints
        self.c.nmethods = len(self.method_names)
        self.c.allowed = <PyObject*>self.allowed
        self.c.names = <PyObject*>self.names
        self.c.count = len(self.names)


cdef class _Node:
    """Owner of one CNode, its arrays and its children, built from the registered shapes."""

    cdef CNode c
    cdef dict static        # text -> _Node, while building and then to keep keys alive
    cdef dict typed_build   # kind -> _Node, while building
    cdef list typed_nodes   # children of the typed edges, kept alive
    cdef list converters    # custom converters of the typed edges, kept alive
    cdef _Node str_child
    cdef _Leaf path_leaf
    cdef _Leaf leaf

    def __cinit__(self):
        self.static = {}
        self.typed_build = {}
        self.typed_nodes = []
        self.converters = []
        self.c.nstatic = 0
        self.c.mask = -1
        self.c.slots = NULL
        self.c.ntyped = 0
        self.c.typed = NULL
        self.c.str_child = NULL
        self.c.path_leaf = NULL
        self.c.leaf = NULL

    def __dealloc__(self):
        PyMem_Free(self.c.slots)
        PyMem_Free(self.c.typed)

    cdef void freeze(self, dict rank, dict converters) except *:
        """Fill in self.c (recursively): slots, typed edges in priority order, pointers."""
        cdef Py_ssize_t size
        cdef Py_ssize_t index
        cdef uint64_t h
        cdef str key
        cdef _Node child
        cdef list kinds
        cdef CEdge* edge
        self.c.nstatic = len(self.static)
        if self.c.nstatic:
            if self.c.nstatic <= _SMALL:
                size = self.c.nstatic
            else:
                size = 8
                while size < 2 * self.c.nstatic:
                    size *= 2
                self.c.mask = size - 1
            self.c.slots = <CSlot*>PyMem_Malloc(size * sizeof(CSlot))
            if self.c.slots == NULL:
                raise MemoryError()
            for index in range(size):
                self.c.slots[index].key = NULL
                self.c.slots[index].child = NULL
                self.c.slots[index].hash = 0
            index = 0
            for key, child in self.static.items():
                child.freeze(rank, converters)
                if self.c.mask < 0:
                    self.c.slots[index].key = <PyObject*>key
                    self.c.slots[index].child = &child.c
                    index += 1
                    continue
                h = _hash_text(key)
                index = <Py_ssize_t>(h & <uint64_t>self.c.mask)
                while self.c.slots[index].key != NULL:
                    index = (index + 1) & self.c.mask
                self.c.slots[index].hash = h
                self.c.slots[index].key = <PyObject*>key
                self.c.slots[index].child = &child.c
        kinds = sorted(self.typed_build, key=rank.__getitem__)
        if kinds:
            self.c.typed = <CEdge*>PyMem_Malloc(len(kinds) * sizeof(CEdge))
            if self.c.typed == NULL:
                raise MemoryError()
            self.c.ntyped = len(kinds)
            for index, kind_name in enumerate(kinds):
                child = <_Node>self.typed_build[kind_name]
                child.freeze(rank, converters)
                self.typed_nodes.append(child)
                edge = &self.c.typed[index]
                edge.child = &child.c
                edge.convert = NULL
                if kind_name == "uuid":
                    edge.kind = K_UUID
                elif kind_name == "int":
                    edge.kind = K_INT
                elif kind_name == "float":
                    edge.kind = K_FLOAT
                else:
                    edge.kind = K_CUSTOM
                    convert = converters[kind_name]
                    self.converters.append(convert)
                    edge.convert = <PyObject*>convert
        self.typed_build = None
        if self.str_child is not None:
            self.str_child.freeze(rank, converters)
            self.c.str_child = &self.str_child.c
        if self.path_leaf is not None:
            self.c.path_leaf = &self.path_leaf.c
        if self.leaf is not None:
            self.c.leaf = &self.leaf.c


cdef class _Table:
    """The frozen lookup structure: the trie root plus a dict of all-static paths."""

    cdef _Node root
    cdef dict static
    # Bit n set when some all-static path has length n (< 256): most paths with parameters
    # skip the dict (and hashing the whole path) on length alone.
    cdef uint64_t static_lengths[4]
    cdef bint long_static

    cdef inline bint may_be_static(self, Py_ssize_t length) noexcept:
        if length >= 256:
            return self.long_static
        return (self.static_lengths[length >> 6] >> (length & 63)) & 1


cdef _Table _build(object definitions):
    cdef _Table table = _Table()
    cdef _Node root = _Node()
    cdef _Node node
    cdef _Leaf leaf
    cdef dict static = {}
    cdef Py_ssize_t index
    cdef Py_ssize_t length
    converters = definitions.converters()
    rank = {"uuid": -3, "int": -2, "float": -1}
    rank.update({name: index for index, name in enumerate(converters)})
    for segments, model in definitions.shapes():
        leaf = _Leaf(dict(model.methods), tuple(model.allowed), tuple(model.names))
        node = root
        all_static = True
        for seg in segments:
            if seg.kind is None:
                child = node.static.get(seg.text)
                if child is None:
                    child = node.static[seg.text] = _Node()
                node = <_Node>child
            elif seg.kind == "path":
                all_static = False
                node.path_leaf = leaf
                node = None
                break
            elif seg.kind == "str":
                all_static = False
                if node.str_child is None:
                    node.str_child = _Node()
                node = node.str_child
            else:
                all_static = False
                child = node.typed_build.get(seg.kind)
                if child is None:
                    child = node.typed_build[seg.kind] = _Node()
                node = <_Node>child
        if node is not None:
            node.leaf = leaf
        if all_static:
            static["/" + "/".join([seg.text for seg in segments])] = leaf
    root.freeze(rank, converters)
    table.root = root
    table.static = static
    table.long_static = False
    for index in range(4):
        table.static_lengths[index] = 0
    for text in static:
        length = len(text)
        if length >= 256:
            table.long_static = True
        else:
            table.static_lengths[length >> 6] |= (<uint64_t>1) << (length & 63)
    return table


cdef class Router:
    """Method + path -> endpoint router over a segment trie with typed parameters (compiled)."""

    # The fields are declared in _router.pxd.

    def __init__(self):
        """Create an empty router that knows the built-in converters."""
        self._definitions = _Definitions()
        self._table = None
        self._lock = threading.Lock()

    def add_converter(self, name, convert):
        """Register a custom converter: it returns the value or raises ValueError (= no match)."""
        self._definitions.add_converter(name, convert)

    def converters(self):
        """The custom converters by name, in registration order (a copy)."""
        return self._definitions.converters()

    def shapes(self):
        """Each registered route shape's segments and a new Leaf for it: what compile() uses."""
        return self._definitions.shapes()

    def add(self, template, methods, endpoint, param_types=None):
        """Register ``endpoint`` for the uppercase ``methods`` at ``template`` (see the twin)."""
        with self._lock:
            self._definitions.add(template, methods, endpoint, param_types)
            self._table = None

    def compile(self):
        """Freeze the table into the lookup structure; idempotent and thread-safe."""
        with self._lock:
            if self._table is None:
                self._table = _build(self._definitions)

    def match(self, str method not None, str path not None):
        """(endpoint, params) | (None, None) for 404 | (None, allowed) for 405; never raises."""
        return self.lookup(method, path)

    cdef tuple lookup(self, str method, str path):
        """``match()`` for compiled callers (the dispatcher): no Python call in between."""
        cdef _Table table = <_Table>self._table
        cdef CLeaf* leaf
        cdef PyObject* found
        cdef Py_ssize_t n
        cdef Py_ssize_t index
        cdef int kind
        cdef const void* data
        cdef _Captures values
        if method is None or path is None:  # what match()'s "not None" refuses
            raise TypeError("Router.lookup() needs a str method and path")
        if table is None:
            self.compile()
            table = <_Table>self._table
        n = PyUnicode_GET_LENGTH(path)
        if table.may_be_static(n):
            found = PyDict_GetItemWithError(table.static, path)
            if found != NULL:
                leaf = &(<_Leaf>found).c
                found = _endpoint_for(leaf, method)
                if found == NULL:
                    return (None, <object>leaf.allowed)
                return (<object>found, {})
        kind = PyUnicode_KIND(path)
        data = PyUnicode_DATA(path)
        if n == 0 or PyUnicode_READ(kind, data, 0) != SLASH:
            return _MISS
        values.count = 0
        try:
            if not _walk(&table.root.c, path, kind, data, n, 1, &values, &leaf):
                return _MISS
            found = _endpoint_for(leaf, method)
            if found == NULL:
                return (None, <object>leaf.allowed)
            return (<object>found, _params(leaf, &values))
        finally:
            for index in range(values.count):
                Py_XDECREF(values.values[index])

    def routes(self):
        """(method, template, endpoint) for every registered route, in registration order."""
        return self._definitions.routes()
