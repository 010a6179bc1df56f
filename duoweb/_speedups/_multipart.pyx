# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True
"""Compiled streaming multipart/form-data push parser: the twin of ``duoweb._multipart_py``.

Same API, same events, same exception classes and messages as the pure module (the typed
source of truth and the reference); this one scans the bytes directly. See the pure module
for what the events are and why the work is linear and the memory bounded.
``parse_urlencoded`` is the twin of the pure module's, for urlencoded bodies.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject
from libc.stdint cimport uint64_t
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp, memcpy

cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object text)
    void* _text_data "PyUnicode_DATA"(PyObject* text)
    Py_ssize_t _text_length "PyUnicode_GET_LENGTH"(PyObject* text)

cdef extern from "strings.h":
    int strncasecmp(const char* a, const char* b, size_t n) nogil

from duoweb._multipart_errors import MalformedMultipart, PartHeadersTooLarge, TooManyParts

__all__ = [
    "MalformedMultipart",
    "MultipartParser",
    "PartHeadersTooLarge",
    "TooManyParts",
    "parse_disposition",
    "parse_urlencoded",
]

cdef enum:
    _PREAMBLE = 0
    _HEADERS = 1
    _CONTENT = 2
    _DONE = 3

cdef str _NOT_CRLF = "Multipart line breaks must be CRLF (RFC 7578)."
cdef str _LF_IN_HEADERS = (
    "A part's headers are malformed: their lines must end in CRLF (RFC 7578)."
)
cdef str _MALFORMED_HEADERS = (
    "A part's headers are malformed: a line without ':', or no blank line before its content."
)


cdef inline bint _name_char(unsigned char c) noexcept:
    return (
        (c >= 97 and c <= 122) or (c >= 65 and c <= 90) or (c >= 48 and c <= 57)
        or c == 45 or c == 95
    )


cdef Py_ssize_t _find(const char* data, Py_ssize_t start, Py_ssize_t size,
                      const char* needle, Py_ssize_t length) noexcept:
    """Where ``needle`` (CRLF then no other CR; 2 bytes at least) first occurs, or -1.

    memchr finds each CR; a candidate whose next byte is LF is checked by memcmp, which
    stops at the first difference. (Most CRs in binary content, and in text every CRLF but
    the delimiter's, fail one of the two byte tests, without a call.) A match can only
    extend to the next CR, so every byte is compared a bounded number of times: linear in
    the data.
    """
    cdef const char* hit
    cdef Py_ssize_t at
    while start + length <= size:
        hit = <const char*>memchr(data + start, 13, size - length + 1 - start)
        if hit == NULL:
            return -1
        at = hit - data
        if hit[1] == needle[1] and (
            length == 2 or (hit[2] == needle[2] and memcmp(hit + 3, needle + 3, length - 3) == 0)
        ):
            return at
        start = at + 1
    return -1


cdef class MultipartParser:
    """Parses one multipart/form-data body pushed to it in chunks of any size."""

    cdef bytes _delimiter
    cdef bytes _first
    cdef Py_ssize_t _max_header_size
    cdef Py_ssize_t _max_header_lines
    cdef Py_ssize_t _max_parts
    cdef int _state
    cdef bytes _carry
    cdef Py_ssize_t _scanned
    cdef list _headers
    cdef Py_ssize_t _disposition_at  # index in _headers of the first Content-Disposition
    cdef Py_ssize_t _type_at  # and of the first Content-Type (-1: none yet)
    cdef Py_ssize_t _header_size
    cdef Py_ssize_t _parts

    def __init__(
        self, bytes boundary, Py_ssize_t max_header_size, Py_ssize_t max_header_lines,
        Py_ssize_t max_parts
    ):
        if not boundary or b"\r" in boundary or b"\n" in boundary:
            raise MalformedMultipart("The multipart boundary is not valid.")
        self._delimiter = b"\r\n--" + boundary
        self._first = b"--" + boundary
        self._max_header_size = max_header_size
        self._max_header_lines = max_header_lines
        self._max_parts = max_parts
        self._state = _PREAMBLE
        self._carry = b""
        self._scanned = 0
        self._headers = []
        self._disposition_at = -1
        self._type_at = -1
        self._header_size = 0
        self._parts = 0

    @property
    def parts(self):
        """How many parts have started so far."""
        return self._parts

    @property
    def held(self):
        """How many bytes are held back, waiting for the next chunk to tell what they are."""
        return PyBytes_GET_SIZE(self._carry)

    @property
    def complete(self):
        """True once the final boundary has been read."""
        return self._state == _DONE

    def feed(self, chunk):
        """The events ``chunk`` completes; raises on the first malformation or bound passed."""
        if type(chunk) is not bytes:  # a bytearray or memoryview from a server
            chunk = bytes(chunk)
        cdef list events = []
        cdef int state = self._state
        if state == _DONE:
            return events
        cdef bytes buffer = (
            self._carry + <bytes>chunk if PyBytes_GET_SIZE(self._carry) else <bytes>chunk
        )
        cdef Py_ssize_t size = PyBytes_GET_SIZE(buffer)
        cdef bytes delimiter = self._delimiter
        cdef Py_ssize_t dsize = PyBytes_GET_SIZE(delimiter)
        cdef Py_ssize_t offset = 0
        cdef Py_ssize_t found, keep, after, end, first, start
        cdef const char* data = PyBytes_AS_STRING(buffer)
        while offset < size:
            if state == _CONTENT:
                found = _find(data, offset, size, PyBytes_AS_STRING(delimiter), dsize)
                if found < 0:
                    keep = size
                    start = size - dsize + 1
                    if start < offset:
                        start = offset
                    # The last CR of the tail is the only one that can start the delimiter.
                    keep = size - 1
                    while keep >= start and data[keep] != 13:
                        keep -= 1
                    if keep < start or memcmp(data + keep, PyBytes_AS_STRING(delimiter),
                                              size - keep) != 0:
                        keep = size
                    if keep > offset:
                        events.append(buffer[offset:keep] if offset or keep < size else buffer)
                    offset = keep
                    break
                after = found + dsize
                if size - after < 2:
                    if found > offset:
                        events.append(buffer[offset:found])
                    offset = found
                    break
                if found > offset:
                    events.append(buffer[offset:found])
                events.append(None)
                if data[after] == 13 and data[after + 1] == 10:
                    self._start_part()
                    state = _HEADERS
                elif data[after] == 45 and data[after + 1] == 45:
                    state = _DONE
                    offset = size
                    break
                else:
                    raise MalformedMultipart("A boundary line has bytes after the boundary.")
                offset = after + 2
            elif state == _HEADERS:
                end = _find(data, offset + self._scanned, size, b"\r\n", 2)
                if end < 0:
                    if memchr(
                        data + offset + self._scanned, 10, size - offset - self._scanned
                    ) != NULL:
                        raise MalformedMultipart(_LF_IN_HEADERS)
                    if self._header_size + size - offset > self._max_header_size:
                        raise PartHeadersTooLarge("A part's header section is too large.")
                    self._scanned = size - offset - 1 if size - offset > 0 else 0
                    break
                self._scanned = 0
                if end == offset:
                    events.append(self._head())
                    state = _CONTENT
                else:
                    self._header_line(data + offset, end - offset)
                offset = end + 2
            else:
                if size - offset < dsize:
                    break
                first = buffer.find(self._first, offset)
                if first < 0:
                    if size - dsize + 1 > offset:
                        offset = size - dsize + 1
                    break
                if first > 0 and (first < 2 or data[first - 2] != 13 or data[first - 1] != 10):
                    raise MalformedMultipart(
                        "The first boundary must start a line of the multipart body."
                    )
                after = first + dsize - 2
                if size - after < 2:
                    offset = first - 2 if first >= 2 else 0
                    break
                if data[after] == 13 and data[after + 1] == 10:
                    self._start_part()
                    state = _HEADERS
                    offset = after + 2
                elif data[after] == 45 and data[after + 1] == 45:
                    state = _DONE
                    offset = size
                elif data[after] == 10:
                    raise MalformedMultipart(_NOT_CRLF)
                else:
                    raise MalformedMultipart("A boundary line has bytes after the boundary.")
        self._state = state
        self._carry = buffer[offset:] if offset < size else b""
        return events

    cdef void _start_part(self) except *:
        self._parts += 1
        if self._parts > self._max_parts:
            raise TooManyParts("The body has too many parts.")
        self._headers = []
        self._disposition_at = -1
        self._type_at = -1
        self._header_size = 0

    cdef void _header_line(self, const char* data, Py_ssize_t size) except *:
        cdef Py_ssize_t i, colon, left, right, start
        cdef unsigned char c
        cdef const char* found
        cdef list headers = self._headers
        cdef str text, value
        if memchr(data, 10, size) != NULL:
            raise MalformedMultipart(_LF_IN_HEADERS)
        self._header_size += size + 2
        if self._header_size > self._max_header_size:
            raise PartHeadersTooLarge("A part's header section is too large.")
        if memchr(data, 13, size) != NULL:
            raise MalformedMultipart(_MALFORMED_HEADERS)
        if data[0] == 32 or data[0] == 9:  # an obsolete folded line: more of the previous value
            text = _utf8(data, size)
            if not headers or text.isspace():
                raise MalformedMultipart(_MALFORMED_HEADERS)
            name, value = headers.pop()
            headers.append((name, value + " " + text[1:]))
            return
        if len(headers) >= self._max_header_lines:
            raise MalformedMultipart("A part has too many header lines.")
        found = <const char*>memchr(data, 58, size)
        if found == NULL:
            raise MalformedMultipart(_MALFORMED_HEADERS)
        colon = found - data
        left = 0
        right = colon
        while left < right and (data[left] == 32 or data[left] == 9):
            left += 1
        while right > left and (data[right - 1] == 32 or data[right - 1] == 9):
            right -= 1
        if left == right:
            raise MalformedMultipart("A part has a header with an invalid name.")
        for i in range(left, right):
            c = <unsigned char>data[i]
            if not _name_char(c):
                raise MalformedMultipart("A part has a header with an invalid name.")
        start = colon + 1
        while start < size and (data[start] == 32 or data[start] == 9):
            start += 1
        value = _utf8(data + start, size - start)
        if right - left == 19 and self._disposition_at < 0:
            if strncasecmp(data + left, b"content-disposition", 19) == 0:
                self._disposition_at = len(headers)
        elif right - left == 12 and self._type_at < 0:
            if strncasecmp(data + left, b"content-type", 12) == 0:
                self._type_at = len(headers)
        headers.append((PyUnicode_DecodeASCII(data + left, right - left, NULL), value))

    cdef tuple _head(self):
        cdef list headers = self._headers
        if self._disposition_at < 0:
            raise MalformedMultipart("A part has no Content-Disposition header.")
        disposition = (<tuple>headers[self._disposition_at])[1]
        content_type = None if self._type_at < 0 else (<tuple>headers[self._type_at])[1]
        kind, name, filename = parse_disposition(disposition)
        if kind != "form-data":
            raise MalformedMultipart("A part's Content-Disposition is not form-data.")
        return (name or "", filename, content_type, disposition, headers)


cdef str _utf8(const char* data, Py_ssize_t size):
    try:
        return PyUnicode_DecodeUTF8(data, size, NULL)
    except UnicodeDecodeError:
        raise MalformedMultipart("A part's headers are not valid UTF-8.") from None


cpdef tuple parse_disposition(str value):
    """(type lowercased, name, filename) of a Content-Disposition value, names unquoted."""
    cdef Py_ssize_t end = len(value)
    cdef Py_ssize_t first_close, second_open, second_close
    # As browsers send it: form-data; name="..."[; filename="..."], no escapes.
    if (
        end > 17 and value[end - 1] == '"' and value.startswith('form-data; name="')
        and "\\" not in value and "%" not in value
    ):
        first_close = value.find('"', 17)
        if first_close == end - 1:
            return "form-data", value[17:first_close], None
        second_open = first_close + 13
        if value.startswith('"; filename="', first_close):
            second_close = value.find('"', second_open)
            if second_close == end - 1:
                return "form-data", value[17:first_close], value[second_open:second_close]
    cdef Py_ssize_t semicolon = value.find(";")
    cdef Py_ssize_t position = semicolon, start, stop, equals, close
    kind = (value if semicolon < 0 else value[:semicolon]).strip().lower()
    name = None
    filename = None
    cdef str key, raw
    while 0 <= position < end:
        start = position + 1
        position = value.find(";", start)
        stop = end if position < 0 else position
        equals = value.find("=", start, stop)
        if equals < 0:
            continue
        key = value[start:equals].strip().lower()
        start = equals + 1
        while start < stop and (value[start] == " " or value[start] == "\t"):
            start += 1
        if start < stop and value[start] == '"':
            close = _closing_quote(value, start + 1)
            raw = value[start : close + 1] if close >= 0 else value[start:]
            position = value.find(";", close + 1) if close >= 0 else -1
        else:
            raw = value[start:stop].strip()
        if key == "name":
            name = _unquote(raw, False)
        elif key == "filename":
            filename = _unquote(raw, True)
    return kind, name, filename


cdef Py_ssize_t _closing_quote(str value, Py_ssize_t start):
    cdef Py_ssize_t quote, backslashes
    while True:
        quote = value.find('"', start)
        if quote < 0:
            return -1
        backslashes = 0
        while value[quote - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return quote
        start = quote + 1


cdef str _unquote(str raw, bint filename):
    if len(raw) >= 2 and raw[0] == '"' and raw[len(raw) - 1] == '"':
        raw = raw[1 : len(raw) - 1]
        if '\\"' in raw or "\\\\" in raw:
            raw = raw.replace("\\\\", "\\").replace('\\"', '"')
        elif "%" in raw:
            raw = raw.replace("%0D", "\r").replace("%0A", "\n").replace("%22", '"')
    elif "%" in raw:
        raw = raw.replace("%0D", "\r").replace("%0A", "\n").replace("%22", '"')
    if filename and (raw[1:3] == ":\\" or raw[:2] == "\\\\"):
        raw = raw.rpartition("\\")[2]
    return raw


# What each byte is to the urlencoded scanner: a bit per kind that matters, 0 for the rest.
cdef enum:
    _AMP = 1  # "&" ends a field
    _EQ = 2  # the first "=" ends a name
    _PLUS = 4  # "+" is a space
    _PERCENT = 8  # "%XX" is a byte
    _HIGH = 16  # not ASCII: the text needs UTF-8 decoding

cdef unsigned char _KIND[256]

# The next byte at or after ``i`` whose kind is not 0 (or ``size``): 16 bytes at a time with
# SSE2 where the compiler has it (every x86-64), else byte by byte with the table. Bytes of
# kind 0 change nothing, so the scanner only stops at these; each byte is looked at once.
cdef extern from *:
    """
    #if defined(__SSE2__) && defined(__GNUC__)
    #include <emmintrin.h>
    #endif
    static inline Py_ssize_t duoweb_next_special(
        const unsigned char *data, Py_ssize_t i, Py_ssize_t size, const unsigned char *kinds
    ) {
    #if defined(__SSE2__) && defined(__GNUC__)
        const __m128i amp = _mm_set1_epi8('&'), eq = _mm_set1_epi8('=');
        const __m128i plus = _mm_set1_epi8('+'), percent = _mm_set1_epi8('%');
        while (i + 16 <= size) {
            __m128i v = _mm_loadu_si128((const __m128i *)(data + i));
            __m128i hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, eq)),
                _mm_or_si128(_mm_cmpeq_epi8(v, plus), _mm_cmpeq_epi8(v, percent)));
            /* a byte's top bit: a hit, or a non-ASCII byte */
            unsigned int mask = (unsigned int)_mm_movemask_epi8(_mm_or_si128(hit, v));
            if (mask) {
                return i + __builtin_ctz(mask);
            }
            i += 16;
        }
    #endif
        while (i < size && kinds[data[i]] == 0) {
            i++;
        }
        return i;
    }
    """
    Py_ssize_t _next_special "duoweb_next_special"(
        const unsigned char* data, Py_ssize_t i, Py_ssize_t size, const unsigned char* kinds
    ) noexcept


cdef void _fill_kinds() noexcept:
    cdef int c
    for c in range(256):
        _KIND[c] = _HIGH if c >= 128 else 0
    _KIND[38] = _AMP
    _KIND[61] = _EQ
    _KIND[43] = _PLUS
    _KIND[37] = _PERCENT


_fill_kinds()


def parse_urlencoded(bytes body, Py_ssize_t max_fields):
    """The ``(name, value)`` pairs of an urlencoded body, in order; TooManyParts past the bound.

    One pass over the body: each byte's kind comes from a table, a name ends at ``=`` or
    ``&``, a value at ``&``, and the kinds seen in each say how to make its text. Text with
    nothing to decode is copied straight into its str; the rest is decoded in one more pass
    (into a scratch buffer the size of the body): linear, like the twin.
    """
    cdef const unsigned char* data = <const unsigned char*>PyBytes_AS_STRING(body)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(body)
    cdef Py_ssize_t i = 0, start, name_end, value_start, count = 0
    cdef unsigned char kind, name_kinds, value_kinds
    cdef unsigned char* scratch = NULL
    cdef list pairs = []
    cdef str name, value
    try:
        while i < size:
            start = i
            name_kinds = 0
            i = _next_special(data, i, size, _KIND)
            while i < size:
                kind = _KIND[data[i]]
                if kind & (_AMP | _EQ):
                    break
                name_kinds |= kind
                i = _next_special(data, i + 1, size, _KIND)
            name_end = i
            value_start = i
            value_kinds = 0
            if i < size and data[i] == 61:  # "=": a value follows
                i += 1
                value_start = i
                i = _next_special(data, i, size, _KIND)
                while i < size:
                    kind = _KIND[data[i]]
                    if kind & _AMP:
                        break
                    value_kinds |= kind
                    i = _next_special(data, i + 1, size, _KIND)
            elif i == start:  # an empty field ("&&", or a leading or trailing "&")
                i += 1
                continue
            count += 1
            if count > max_fields:
                raise TooManyParts("The form has too many fields.")
            if (name_kinds | value_kinds) & (_PERCENT | _HIGH) and scratch == NULL:
                scratch = <unsigned char*>PyMem_Malloc(size)
                if scratch == NULL:
                    raise MemoryError()
            if name_kinds == 0 and name_end - start <= _NAME_MAX:
                name = _known_name(data + start, name_end - start)
            else:
                name = _form_text(data + start, name_end - start, name_kinds, scratch)
            value = _form_text(data + value_start, i - value_start, value_kinds, scratch)
            pairs.append((name, value))
            i += 1  # past the "&"
    finally:
        PyMem_Free(scratch)
    return pairs


# Field names seen lately, shared instead of made again: a form's names repeat request after
# request. 2-way set-associative by a hash of the name's bytes, only plain ASCII names (the
# bytes are the characters) of up to _NAME_MAX bytes: at most 4096 small strs per process, and
# a lookup is O(1) whatever the input (a miss just replaces the set's older entry).
cdef enum:
    _NAME_MAX = 32
    _NAME_SETS = 2048  # a power of two
    _NAME_SET_BITS = 11  # its log2

cdef PyObject* _NAMES[_NAME_SETS * 2]  # per set: [newer, older]; NULL when empty


cdef inline bint _is_name(PyObject* entry, const unsigned char* raw, Py_ssize_t size) noexcept:
    return (
        entry != NULL and _text_length(entry) == size
        and memcmp(_text_data(entry), raw, size) == 0
    )


cdef str _known_name(const unsigned char* raw, Py_ssize_t size):
    """The str of a plain ASCII name of at most _NAME_MAX bytes, from the cache when there."""
    cdef uint64_t first = 0, last = 0, hashed
    if size >= 8:  # the first and last 8 bytes (overlapping below 16) and the length
        memcpy(&first, raw, 8)
        memcpy(&last, raw + size - 8, 8)
    else:
        memcpy(&first, raw, size)
    hashed = (first ^ (last * 0x9E3779B97F4A7C15ULL) ^ <uint64_t>size) * 0x9E3779B97F4A7C15ULL
    cdef PyObject** entries = _NAMES + 2 * <Py_ssize_t>(hashed >> (64 - _NAME_SET_BITS))
    if _is_name(entries[0], raw, size):
        return <str><object>entries[0]
    if _is_name(entries[1], raw, size):
        return <str><object>entries[1]
    text = PyUnicode_New(size, 127)
    memcpy(PyUnicode_DATA(text), raw, size)
    Py_XDECREF(entries[1])
    entries[1] = entries[0]
    Py_INCREF(text)
    entries[0] = <PyObject*>text
    return text


cdef inline int _hex_value(unsigned char c) noexcept:
    if c >= 48 and c <= 57:
        return c - 48
    c |= 32  # A-F as a-f
    if c >= 97 and c <= 102:
        return c - 87
    return -1


cdef inline str _form_text(const unsigned char* raw, Py_ssize_t size, unsigned char kinds,
                           unsigned char* out):
    """One name or value: ``+`` a space, ``%XX`` a byte, then UTF-8 (bad bytes U+FFFD).

    ``kinds`` is every byte's kind OR-ed together: without a "%" or a non-ASCII byte the
    bytes are the characters (a "+" aside), written straight into the new str.
    """
    cdef unsigned char* text_data
    cdef Py_ssize_t i
    if kinds & (_PERCENT | _HIGH):
        return _decoded_text(raw, size, out)
    text = PyUnicode_New(size, 127)
    text_data = <unsigned char*>PyUnicode_DATA(text)
    if (kinds & _PLUS) == 0:
        memcpy(text_data, raw, size)
    else:
        for i in range(size):
            text_data[i] = 32 if raw[i] == 43 else raw[i]
    return text


cdef str _decoded_text(const unsigned char* raw, Py_ssize_t size, unsigned char* out):
    """Text with escapes or non-ASCII bytes: decoded into ``out``, then made a str."""
    cdef Py_ssize_t i = 0, length = 0
    cdef unsigned char c, seen = 0
    cdef int high, low
    while i < size:
        c = raw[i]
        if c == 43:
            c = 32
        elif c == 37 and i + 2 < size:  # "%" and two more bytes
            high = _hex_value(raw[i + 1])
            low = _hex_value(raw[i + 2])
            if high >= 0 and low >= 0:
                c = <unsigned char>(high * 16 + low)
                i += 2
        out[length] = c
        seen |= c
        length += 1
        i += 1
    if seen < 128:  # ASCII: the bytes are the characters
        text = PyUnicode_New(length, 127)
        memcpy(PyUnicode_DATA(text), out, length)
        return text
    return PyUnicode_DecodeUTF8(<const char*>out, length, "replace")
