"""A request body into FormData as it arrives: urlencoded or multipart, within FormLimits.

Multipart is parsed by duoweb's own streaming push parser (duoweb._multipart: compiled,
with a pure-Python twin), fed chunk by chunk from the request's body reader; file parts go to
their spool as they are parsed, so no file is ever whole in memory. An urlencoded body is
gathered and split into its fields by the same module's ``parse_urlencoded``. Every
malformation is a 400 problem saying what is wrong, every limit a 413.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote_to_bytes

from duoweb._multipart import (
    MalformedMultipart,
    MultipartParser,
    PartHead,
    PartHeadersTooLarge,
    TooManyParts,
    parse_urlencoded,
)
from duoweb.errors import HTTPError
from duoweb.form_linebreaks import LineBreakFraming, uses_bare_lf
from duoweb.form_spool import SpoolWriter
from duoweb.formdata import FormData, FormLimits, UploadFile
from duoweb.headers import Headers, parse_content_type

if TYPE_CHECKING:
    from duoweb.requests import Request

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

#: Chunks smaller than this are gathered before parsing, so a client trickling bytes cannot
#: make the parser re-scan a growing buffer once per byte.
_MIN_FEED = 16 * 1024

#: A part's header lines: more than this many is a malformed (or hostile) part.
_MAX_HEADER_LINES = 16

_FILENAME_STAR = re.compile(r";\s*filename\*\s*=\s*\"?([^;\"\s]*)", re.IGNORECASE)


def unsupported_media_type() -> HTTPError:
    """The 415 problem for a body that is not a form."""
    return HTTPError(415, f"The request body must be {MULTIPART} or {URLENCODED}.")


class FormBuilder:
    """Collects one form from body chunks: ``feed`` each chunk, then ``finish`` (or ``abort``)."""

    def __init__(self, content_type: str | None, limits: FormLimits) -> None:
        self.limits = limits
        kind, params = parse_content_type(content_type) if content_type else ("", {})
        self.kind = kind
        self._raw: list[bytes] = []  # the whole body, for urlencoded and untyped bodies
        if kind == MULTIPART:
            boundary = params.get("boundary")
            if not boundary:
                raise HTTPError(400, "multipart/form-data needs a boundary parameter.")
            self._delimiter = b"--" + boundary.encode("latin-1", "replace")
            try:
                self._parser = MultipartParser(
                    self._delimiter[2:],
                    limits.max_part_header_size,
                    _MAX_HEADER_LINES,
                    limits.max_parts,
                )
            except MalformedMultipart:
                raise HTTPError(400, "The multipart boundary is not valid.") from None
        elif kind and kind != URLENCODED:
            raise unsupported_media_type()
        self._items: list[tuple[str, str | UploadFile]] = []
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._files = 0
        self._uploads: dict[str, list[UploadFile]] = {}  # the files in _items, by name
        self._name = ""
        self._spool: SpoolWriter | None = None  # the current file part's, with its UploadFile
        self._text = bytearray()
        self._in_memory = 0  # bytes of finished files still held in memory
        #: The body's first bytes, to tell a wrong boundary from a body cut short.
        self._head = bytearray()  # (appended to in place: 1-byte chunks cost no copies)
        #: Set on the first parse: the rewriter of an LF-only body's framing, or None.
        self._framing: LineBreakFraming | None = None
        self._framing_known = False

    # --- feeding ---------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        """Parse what ``chunk`` completes (multipart) or keep it (urlencoded)."""
        if self.kind != MULTIPART:
            self._raw.append(chunk)
            return
        if len(self._head) < _MIN_FEED:
            self._head += chunk[:_MIN_FEED]
        if self._pending or len(chunk) < _MIN_FEED:
            self._pending.append(chunk)
            self._pending_size += len(chunk)
            if self._pending_size < _MIN_FEED:
                return
            chunk = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
        self._parse(chunk)

    def finish(self) -> FormData:
        """The complete form; 400 when the body ended early or is not a form at all."""
        if self.kind != MULTIPART:
            body = b"".join(self._raw)
            if self.kind == URLENCODED:
                return self._urlencoded(body)
            if body:
                raise unsupported_media_type()
            return FormData()
        if self._pending:
            self._parse(b"".join(self._pending))
            self._pending.clear()
        if self._framing is not None:
            self._parse(self._framing.flush())
        if not self._parser.complete:
            if self._parser.parts == 0 and self._delimiter not in self._head:
                raise HTTPError(
                    400,
                    "The body has no part delimited by the boundary in Content-Type "
                    "(wrong boundary, or not multipart at all).",
                )
            raise HTTPError(400, "The multipart body ends before its final boundary (truncated?).")
        for uploads in self._uploads.values():
            for upload in uploads:
                upload.file.seek(0)
        return FormData(self._items, None, self._uploads)

    def abort(self) -> None:
        """Close every file collected so far (the request failed or the client left)."""
        if self._spool is not None:
            self._spool.upload.close()
        for uploads in self._uploads.values():
            for upload in uploads:
                upload.close()

    # --- urlencoded ------------------------------------------------------------------------

    def _urlencoded(self, body: bytes) -> FormData:
        limits = self.limits
        try:
            pairs = parse_urlencoded(body, limits.max_parts)
        except TooManyParts:
            raise HTTPError(413, f"The form has more than {limits.max_parts} fields.") from None
        largest = limits.max_field_size
        if len(body) > largest:  # else no field can be larger: nothing to check
            for name, value in pairs:
                if len(value) > largest:
                    raise _field_too_large(name, largest)
        return FormData(cast("list[tuple[str, str | UploadFile]]", pairs), None, {})

    # --- multipart -------------------------------------------------------------------------

    def _parse(self, data: bytes) -> None:
        if not self._framing_known:
            self._framing_known = True
            if uses_bare_lf(bytes(self._head), self._delimiter):
                self._framing = LineBreakFraming(self._delimiter)
        if self._framing is not None:
            data = self._framing.feed(data)
        try:
            events = self._parser.feed(data)
        except MalformedMultipart as exc:
            raise HTTPError(400, str(exc)) from None
        except PartHeadersTooLarge:
            raise HTTPError(
                413,
                f"A part's header section is larger than {self.limits.max_part_header_size} bytes.",
            ) from None
        except TooManyParts:
            raise _too_many_parts(self.limits.max_parts) from None
        for event in events:
            if event is None:
                self._end_part()
            elif type(event) is bytes:
                self._content(event)
            else:
                self._start_part(event)  # type: ignore[arg-type]  # (a PartHead tuple)

    def _start_part(self, head: PartHead) -> None:
        name, filename, content_type, disposition, headers = head
        if not name:
            raise HTTPError(400, "A part's Content-Disposition has no name.")
        self._name = name
        if "filename*" in disposition:
            filename = _extended_filename(disposition) or filename
        if filename is None:
            self._spool = None
            return
        limits = self.limits
        self._files += 1
        if self._files > limits.max_files:
            raise HTTPError(413, f"The form has more than {limits.max_files} files.")
        upload = UploadFile.spooled(limits, filename, content_type, Headers(headers))
        self._spool = SpoolWriter(upload, limits.spool_size)

    def _content(self, data: bytes) -> None:
        spool = self._spool
        if spool is not None:
            upload = spool.upload
            upload.size += len(data)
            largest = self.limits.max_file_size
            if largest is not None and upload.size > largest:
                raise HTTPError(
                    413, f"The file in part {self._name!r} is larger than {largest} bytes."
                )
            spool.write(data)
            return
        text = self._text
        text += data
        if len(text) > self.limits.max_field_size:
            raise _field_too_large(self._name, self.limits.max_field_size)

    def _end_part(self) -> None:
        spool = self._spool
        if spool is not None:
            spool.flush()
            self._spool = None
            upload = spool.upload
            self._items.append((self._name, upload))
            self._uploads.setdefault(self._name, []).append(upload)
            if upload.size <= self.limits.spool_size:  # still in memory: count it
                self._in_memory += upload.size
                if self._in_memory > self.limits.max_memory:
                    self._in_memory -= upload.size
                    upload.file.rollover()  # type: ignore[attr-defined]  # SpooledTemporaryFile
        else:
            self._items.append((self._name, self._text.decode("utf-8", "replace")))
            self._text.clear()


def _too_many_parts(limit: int) -> HTTPError:
    return HTTPError(413, f"The form has more than {limit} parts.")


def _field_too_large(name: str, limit: int) -> HTTPError:
    return HTTPError(413, f"The form field {name!r} is larger than {limit} bytes.")


def _extended_filename(disposition: str) -> str | None:
    """The ``filename*`` (RFC 5987: ``charset'language'percent-encoded``) decoded, if valid."""
    found = _FILENAME_STAR.search(disposition)
    if found is None:
        return None
    charset, _, rest = found.group(1).partition("'")
    _, quote, encoded = rest.partition("'")
    if not quote:
        return None
    try:
        return unquote_to_bytes(encoded).decode(charset or "utf-8", "replace")
    except LookupError:  # an unknown charset: UTF-8 is what clients send
        return unquote_to_bytes(encoded).decode("utf-8", "replace")


# --- reading a request's form -----------------------------------------------------------------


def read_form(request: Request, limits: FormLimits, max_body_size: int) -> FormData:
    """The request's form, parsed as the body is read (WSGI, or any synchronous caller)."""
    builder = FormBuilder(request.raw_content_type(), limits)
    try:
        for chunk in request.body_chunks(max_body_size):
            builder.feed(chunk)
        return builder.finish()
    except BaseException:
        builder.abort()
        raise


async def receive_form(request: Request, limits: FormLimits, max_body_size: int) -> FormData:
    """The request's form, parsed as the body is received (ASGI)."""
    builder = FormBuilder(request.raw_content_type(), limits)
    try:
        async for chunk in request.receive_body_chunks(max_body_size):
            builder.feed(chunk)
        return builder.finish()
    except BaseException:
        builder.abort()
        raise
