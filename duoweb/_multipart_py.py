"""A streaming multipart/form-data push parser: the pure twin of ``duoweb._speedups._multipart``.

``feed`` takes the body chunk by chunk and returns the events the chunk completes, in order:
a part's head ``(name, filename, content_type, disposition, headers)`` when its header section
ends, then its content as zero or more non-empty ``bytes`` pieces, then ``None`` when the part
ends. Content is never gathered: a piece is passed on as soon as it cannot be the start of a
boundary, so at most a delimiter's length and one byte are held between chunks. A header
section is held until complete, within ``max_header_size``. Work is linear in the input for
any chunking: each byte is searched a bounded number of times. Errors are the classes in
``duoweb._multipart_errors``, their messages said for the client.

``parse_urlencoded`` is the other form body, application/x-www-form-urlencoded, parsed
whole into its ``(name, value)`` pairs.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from duoweb._multipart_errors import MalformedMultipart, PartHeadersTooLarge, TooManyParts

__all__ = [
    "MalformedMultipart",
    "MultipartParser",
    "PartHead",
    "PartHeadersTooLarge",
    "TooManyParts",
    "parse_disposition",
    "parse_urlencoded",
]

#: (name, filename, content_type, Content-Disposition value, header list) of one part.
PartHead = tuple[str, "str | None", "str | None", str, list[tuple[str, str]]]

_PREAMBLE = 0
_HEADERS = 1
_CONTENT = 2
_DONE = 3

_NOT_CRLF = "Multipart line breaks must be CRLF (RFC 7578)."
_MALFORMED_HEADERS = (
    "A part's headers are malformed: a line without ':', or no blank line before its content."
)
_LF_IN_HEADERS = "A part's headers are malformed: their lines must end in CRLF (RFC 7578)."
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class MultipartParser:
    """Parses one multipart/form-data body pushed to it in chunks of any size."""

    __slots__ = (
        "_carry",
        "_delimiter",
        "_header_size",
        "_headers",
        "_max_header_lines",
        "_max_header_size",
        "_max_parts",
        "_parts",
        "_scanned",
        "_state",
    )

    def __init__(
        self, boundary: bytes, max_header_size: int, max_header_lines: int, max_parts: int
    ) -> None:
        if not boundary or b"\r" in boundary or b"\n" in boundary:
            raise MalformedMultipart("The multipart boundary is not valid.")
        #: CRLF, then ``--boundary``: what ends a part's content.
        self._delimiter = b"\r\n--" + boundary
        self._max_header_size = max_header_size
        self._max_header_lines = max_header_lines
        self._max_parts = max_parts
        self._state = _PREAMBLE
        self._carry = b""  # the unparsed end of the previous chunk
        self._scanned = 0  # bytes of the carry already searched for a header line's end
        self._headers: list[tuple[str, str]] = []
        self._header_size = 0
        self._parts = 0

    @property
    def parts(self) -> int:
        """How many parts have started so far."""
        return self._parts

    @property
    def held(self) -> int:
        """How many bytes are held back, waiting for the next chunk to tell what they are."""
        return len(self._carry)

    @property
    def complete(self) -> bool:
        """True once the final boundary has been read."""
        return self._state == _DONE

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[PartHead | bytes | None]:
        """The events ``chunk`` completes; raises on the first malformation or bound passed."""
        if type(chunk) is not bytes:  # a bytearray or memoryview from a server
            chunk = bytes(chunk)
        events: list[PartHead | bytes | None] = []
        state = self._state
        if state == _DONE:
            return events  # the epilogue: ignored
        buffer = self._carry + chunk if self._carry else chunk
        size = len(buffer)
        delimiter = self._delimiter
        dsize = len(delimiter)
        offset = 0
        while offset < size:
            if state == _CONTENT:
                found = buffer.find(delimiter, offset)
                if found < 0:
                    # Keep back only a tail that could start the delimiter.
                    keep = buffer.rfind(b"\r", max(offset, size - dsize + 1))
                    if keep < 0 or not delimiter.startswith(buffer[keep:]):
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
                    break  # the two bytes after the boundary are still to come
                if found > offset:
                    events.append(buffer[offset:found])
                events.append(None)
                tail = buffer[after : after + 2]
                if tail == b"\r\n":
                    self._start_part()
                    state = _HEADERS
                elif tail == b"--":
                    state = _DONE
                    offset = size
                    break
                else:
                    raise MalformedMultipart("A boundary line has bytes after the boundary.")
                offset = after + 2
            elif state == _HEADERS:
                end = buffer.find(b"\r\n", offset + self._scanned)
                if end < 0:
                    if buffer.find(b"\n", offset + self._scanned) >= 0:
                        raise MalformedMultipart(_LF_IN_HEADERS)
                    if self._header_size + size - offset > self._max_header_size:
                        raise PartHeadersTooLarge("A part's header section is too large.")
                    # Searched up to here; a final CR may be half of the CRLF.
                    self._scanned = max(size - offset - 1, 0)
                    break
                self._scanned = 0
                if end == offset:
                    events.append(self._head())
                    state = _CONTENT
                else:
                    self._header_line(buffer[offset:end])
                offset = end + 2
            else:  # the preamble, before the first boundary
                if size - offset < dsize:
                    break  # (so a body that starts with its boundary is seen whole)
                first = buffer.find(delimiter[2:], offset)
                if first < 0:
                    # Skip the preamble, but keep what a boundary (and the CRLF before it)
                    # may start with: the next search sees the same bytes in any chunking.
                    offset = max(offset, size - dsize + 1)
                    break
                if first > 0 and buffer[first - 2 : first] != b"\r\n":
                    raise MalformedMultipart(
                        "The first boundary must start a line of the multipart body."
                    )
                after = first + dsize - 2
                if size - after < 2:
                    offset = max(first - 2, 0)
                    break
                tail = buffer[after : after + 2]
                if tail == b"\r\n":
                    self._start_part()
                    state = _HEADERS
                    offset = after + 2
                elif tail == b"--":
                    state = _DONE
                    offset = size
                elif tail[:1] == b"\n":
                    raise MalformedMultipart(_NOT_CRLF)
                else:
                    raise MalformedMultipart("A boundary line has bytes after the boundary.")
        self._state = state
        self._carry = buffer[offset:] if offset < size else b""
        return events

    def _start_part(self) -> None:
        self._parts += 1
        if self._parts > self._max_parts:
            raise TooManyParts("The body has too many parts.")
        self._headers = []
        self._header_size = 0

    def _header_line(self, line: bytes) -> None:
        if b"\n" in line:
            raise MalformedMultipart(_LF_IN_HEADERS)
        self._header_size += len(line) + 2
        if self._header_size > self._max_header_size:
            raise PartHeadersTooLarge("A part's header section is too large.")
        if b"\r" in line:
            raise MalformedMultipart(_MALFORMED_HEADERS)
        headers = self._headers
        if line[0] in b" \t":  # an obsolete folded line: more of the previous value
            text = _utf8(line)
            if not headers or text.isspace():
                raise MalformedMultipart(_MALFORMED_HEADERS)
            name, value = headers.pop()
            headers.append((name, value + " " + text[1:]))
            return
        if len(headers) >= self._max_header_lines:
            raise MalformedMultipart("A part has too many header lines.")
        raw_name, colon, raw_value = line.partition(b":")
        if not colon:
            raise MalformedMultipart(_MALFORMED_HEADERS)
        raw_name = raw_name.strip(b" \t")
        if not raw_name or not _NAME_CHARS.issuperset(raw_name):
            raise MalformedMultipart("A part has a header with an invalid name.")
        headers.append((raw_name.decode("ascii"), _utf8(raw_value.lstrip(b" \t"))))

    def _head(self) -> PartHead:
        disposition: str | None = None
        content_type: str | None = None
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == "content-disposition":
                if disposition is None:
                    disposition = value
            elif lowered == "content-type" and content_type is None:
                content_type = value
        if disposition is None:
            raise MalformedMultipart("A part has no Content-Disposition header.")
        kind, part_name, filename = parse_disposition(disposition)
        if kind != "form-data":
            raise MalformedMultipart("A part's Content-Disposition is not form-data.")
        return (part_name or "", filename, content_type, disposition, self._headers)


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMultipart("A part's headers are not valid UTF-8.") from None


def parse_disposition(value: str) -> tuple[str, str | None, str | None]:
    """(type lowercased, name, filename) of a Content-Disposition value, names unquoted."""
    pieces = value.split('"', 4)
    if pieces[-1] == "" and "\\" not in value and "%" not in value:  # as browsers send it
        if len(pieces) == 3 and pieces[0] == "form-data; name=":
            return "form-data", pieces[1], None
        if len(pieces) == 5 and pieces[0] == "form-data; name=" and pieces[2] == "; filename=":
            return "form-data", pieces[1], pieces[3]
    end = len(value)
    semicolon = value.find(";")
    kind = (value if semicolon < 0 else value[:semicolon]).strip().lower()
    name: str | None = None
    filename: str | None = None
    position = semicolon
    while 0 <= position < end:
        start = position + 1
        position = value.find(";", start)
        stop = end if position < 0 else position
        equals = value.find("=", start, stop)
        if equals < 0:
            continue  # a parameter without a value
        key = value[start:equals].strip().lower()
        start = equals + 1
        while start < stop and value[start] in " \t":
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


def _closing_quote(value: str, start: int) -> int:
    """Where the quoted string opened before ``start`` closes (a quote not escaped), or -1."""
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


def _unquote(raw: str, filename: bool) -> str:
    """A parameter's value: quotes removed; legacy backslash or HTML5 percent escapes undone."""
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        raw = raw[1:-1]
        if '\\"' in raw or "\\\\" in raw:
            raw = raw.replace("\\\\", "\\").replace('\\"', '"')
        elif "%" in raw:
            raw = raw.replace("%0D", "\r").replace("%0A", "\n").replace("%22", '"')
    elif "%" in raw:
        raw = raw.replace("%0D", "\r").replace("%0A", "\n").replace("%22", '"')
    if filename and (raw[1:3] == ":\\" or raw[:2] == "\\\\"):
        raw = raw.rpartition("\\")[2]  # a full Windows path, as old browsers sent it
    return raw


def parse_urlencoded(body: bytes, max_fields: int) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of an urlencoded body, in order; TooManyParts past the bound.

    Fields are separated by ``&`` (empty ones skipped), a name from its value by the first
    ``=`` (none: the value is empty). In both, ``+`` is a space and ``%XX`` a byte (a ``%``
    not followed by two hex digits stays as it is); the bytes are UTF-8, an invalid sequence
    becoming U+FFFD. Linear: each byte is looked at a bounded number of times.
    """
    pairs: list[tuple[str, str]] = []
    size = len(body)
    start = 0
    while start < size:
        end = body.find(b"&", start)
        if end < 0:
            end = size
        if end > start:
            if len(pairs) >= max_fields:
                raise TooManyParts("The form has too many fields.")
            equals = body.find(b"=", start, end)
            if equals < 0:
                pairs.append((_form_text(body[start:end]), ""))
            else:
                pairs.append((_form_text(body[start:equals]), _form_text(body[equals + 1 : end])))
        start = end + 1
    return pairs


def _form_text(raw: bytes) -> str:
    """One urlencoded name or value decoded: ``+`` first, so an encoded ``%2B`` stays a plus."""
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")
