"""Serve the files of one directory: validators, conditional and range requests, no escapes.

Every request path is checked as segments (no ``..``, no empty or absolute parts, no
backslash or NUL), then resolved with ``os.path.realpath`` and kept only if it lies inside
the directory (resolved once, at construction). The file is opened with ``O_NOFOLLOW`` and
checked with ``fstat`` before it is answered, and the body is read from a file whose device,
inode, size and mtime are the ones that were checked.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, BinaryIO, Final, NamedTuple
from urllib.parse import quote

from duoweb._messages import HeadersInput
from duoweb.errors import HTTPError
from duoweb.headers import Headers, check_header
from duoweb.requests import Request
from duoweb.responses import Response
from duoweb.streaming import FileResponse, http_date

if TYPE_CHECKING:
    from duoweb.app import App

__all__ = [
    "DEFAULT_MEDIA_TYPES",
    "FileChangedError",
    "StaticFiles",
    "parse_http_date",
    "parse_range",
]

logger = logging.getLogger("duoweb")

#: Media types by lowercase suffix, checked before the ``mimetypes`` module (whose answers
#: depend on the host's /etc/mime.types). ``text/*`` types are sent with charset=utf-8.
DEFAULT_MEDIA_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        ".html": "text/html",
        ".htm": "text/html",
        ".css": "text/css",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".cjs": "text/javascript",
        ".json": "application/json",
        ".map": "application/json",
        ".jsonld": "application/ld+json",
        ".webmanifest": "application/manifest+json",
        ".txt": "text/plain",
        ".md": "text/markdown",
        ".csv": "text/csv",
        ".xml": "application/xml",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".gif": "image/gif",
        ".webp": "image/webp",
        ".avif": "image/avif",
        ".ico": "image/vnd.microsoft.icon",
        ".wasm": "application/wasm",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".ttf": "font/ttf",
        ".otf": "font/otf",
        ".pdf": "application/pdf",
        ".zip": "application/zip",
        ".gz": "application/gzip",
        ".mp3": "audio/mpeg",
        ".ogg": "audio/ogg",
        ".wav": "audio/wav",
        ".mp4": "video/mp4",
        ".webm": "video/webm",
    }
)

CacheControl = str | Callable[[str], str | None] | None

# O_NONBLOCK: opening a FIFO swapped in after the stat must not hang the worker.
_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

_NOT_FOUND = "No file matches this path."


class FileChangedError(RuntimeError):
    """The file was replaced or changed between the checks and the reading of its body."""


class _Identity(NamedTuple):
    """What must not change between checking a file and sending it."""

    device: int
    inode: int
    size: int
    mtime_ns: int


def _identity(info: os.stat_result) -> _Identity:
    return _Identity(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _open_checked(path: str, expected: _Identity) -> int:
    """Open ``path`` without following a final symlink; it must still be ``expected``."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or _identity(info) != expected:
            raise FileChangedError(f"{path} changed after it was checked")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _StaticFileResponse(FileResponse):
    """A FileResponse whose body is read from the very file that was checked."""

    __slots__ = ("_identity",)

    def __init__(
        self,
        path: str,
        info: os.stat_result,
        status_code: int,
        headers: HeadersInput,
        media_type: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = 64 * 1024,
    ) -> None:
        super().__init__(
            path,
            status_code,
            headers,
            media_type,
            offset=offset,
            length=length,
            chunk_size=chunk_size,
            stat_result=info,
        )
        self._identity = _identity(info)
        self.stream = self._chunks()

    def open(self) -> BinaryIO:
        """Open the file for reading; FileChangedError if it is not the checked file anymore."""
        fd = _open_checked(self.path, self._identity)
        try:
            return open(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def _chunks(self) -> Iterator[bytes]:
        # A generator: the file is opened on the first chunk, so a body that is never read
        # (HEAD, sendfile, pathsend) never holds a descriptor.
        with self.open() as file:
            file.seek(self.offset)
            remaining = self.length
            while remaining > 0:
                chunk = file.read(min(self.chunk_size, remaining))
                if not chunk:
                    raise FileChangedError(f"{self.path} is shorter than when it was checked")
                remaining -= len(chunk)
                yield chunk


class _Found(NamedTuple):
    """A regular file inside the directory, resolved and checked."""

    path: str
    info: os.stat_result
    relative: str


class _Redirect(NamedTuple):
    """A directory asked for without its trailing slash."""

    segment: str


# --- HTTP-date, entity tags and ranges (RFC 9110 §5.6.7, §8.8.3, §14) --------------------------

_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_LONG_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_IMF_FIXDATE: Final = re.compile(rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT")
_RFC850_DATE: Final = re.compile(rf"{_LONG_DAY}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT")
_ASCTIME_DATE: Final = re.compile(rf"{_DAY} {_MONTH} ([0-9 ][0-9]) {_TIME} ([0-9]{{4}})")


def parse_http_date(value: str, *, now: float | None = None) -> int | None:
    """Seconds since the epoch of an HTTP-date (any of the three RFC 9110 forms), or None."""
    value = value.strip(" \t")
    if match := _IMF_FIXDATE.fullmatch(value):
        day, month, year, hour, minute, second = match.groups()
        full_year = int(year)
    elif match := _RFC850_DATE.fullmatch(value):
        day, month, year, hour, minute, second = match.groups()
        # RFC 9110 §5.6.7: a two-digit year is the nearest one not more than 50 years ahead.
        this_year = time.gmtime(now).tm_year
        full_year = this_year // 100 * 100 + int(year)
        if full_year > this_year + 50:
            full_year -= 100
        elif full_year <= this_year - 50:
            full_year += 100
    elif match := _ASCTIME_DATE.fullmatch(value):
        month, day, hour, minute, second, year = match.groups()
        full_year = int(year)
    else:
        return None
    try:
        moment = datetime(
            full_year,
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),  # a leap second counts as the second before it
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return int(moment.timestamp())


_ETAG_CHARS: Final = re.compile(r"[\x21\x23-\x7e\x80-\xff]*")


def _entity_tags(value: str) -> list[tuple[bool, str]] | None:
    """The (weak, opaque-tag) pairs of an If-Match/If-None-Match list; None for ``*``.

    One left-to-right scan (a client's header must cost linear time): each element is
    ``[W/]"etagc*"`` between optional whitespace; a malformed element is skipped up to the
    next comma.
    """
    if value.strip(" \t") == "*":
        return None
    tags: list[tuple[bool, str]] = []
    end = len(value)
    position = 0
    while position < end:
        while position < end and value[position] in " \t":
            position += 1
        weak = value.startswith("W/", position)
        start = position + 2 if weak else position
        close = value.find('"', start + 1) if value.startswith('"', start) else -1
        after = close + 1
        while 0 < after < end and value[after] in " \t":
            after += 1
        if (
            close > 0
            and (after == end or value[after] == ",")
            and _ETAG_CHARS.fullmatch(value, start + 1, close)
        ):
            tags.append((weak, value[start : close + 1]))
            position = after + 1
            continue
        comma = value.find(",", position)  # a malformed element: skip it
        if comma < 0:
            break
        position = comma + 1
    return tags


_RANGE_SPEC: Final = re.compile(r"([0-9]+)-([0-9]*)|-([0-9]+)")
_HUGE: Final = 1 << 64  # stands in for numbers too long to be file offsets


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    return _HUGE if len(significant) > 19 else int(significant or "0")


def parse_range(value: str, size: int) -> list[tuple[int, int]] | None:
    """The satisfiable ``(start, stop)`` byte ranges of a Range header for ``size`` bytes.

    None means the header must be ignored (not ``bytes``, malformed, or an empty file); an
    empty list means no range is satisfiable (416). Ranges are returned in request order.
    """
    unit, equals, specs = value.partition("=")
    if not equals or unit.strip(" \t").lower() != "bytes" or size == 0:
        return None
    ranges: list[tuple[int, int]] = []
    seen = False
    for raw_spec in specs.split(","):
        spec = raw_spec.strip(" \t")
        if not spec:
            continue  # RFC 9110 §5.6.1: empty list elements are ignored
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None:
            return None
        seen = True
        first, last, suffix = match.groups()
        if suffix is not None:
            length = _position(suffix)
            if length > 0:
                ranges.append((max(0, size - length), size))
            continue
        start = _position(first)
        stop = size
        if last:
            stop = _position(last) + 1
            if stop <= start:
                return None  # last-pos before first-pos: an invalid range-spec
        if start < size:
            ranges.append((start, min(stop, size)))
    return ranges if seen else None


def _precondition(headers: Headers, etag: str, modified: int) -> int | None:
    """RFC 9110 §13.2.2 for a GET or HEAD of an existing file: 412, 304, or None (go on)."""
    if_match = headers.get("if-match")
    if if_match is not None:
        tags = _entity_tags(if_match)
        if tags is not None and (False, etag) not in tags:  # strong comparison
            return 412
    else:
        if_unmodified = headers.get("if-unmodified-since")
        if if_unmodified is not None:
            date = parse_http_date(if_unmodified)
            if date is not None and modified > date:
                return 412
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = _entity_tags(if_none_match)
        if tags is None or any(opaque == etag for _, opaque in tags):  # weak comparison
            return 304
        return None
    if_modified = headers.get("if-modified-since")
    if if_modified is not None:
        date = parse_http_date(if_modified)
        if date is not None and modified <= date:
            return 304
    return None


def _if_range_holds(value: str, etag: str, modified: int) -> bool:
    """Whether an If-Range validator still matches (strong ETag, or exactly Last-Modified)."""
    value = value.strip(" \t")
    if value.startswith(('"', "W/")):
        return value == etag
    return parse_http_date(value) == modified


# --- the directory ---------------------------------------------------------------------------


class StaticFiles:
    """The files below one directory, served read-only to GET and HEAD requests.

    ``index`` is the file answered for a directory (``None``: directories are 404);
    ``follow_symlinks=True`` also serves symlinks whose target lies outside the directory;
    ``cache_control`` is the Cache-Control value (or a function of the relative path
    returning it); ``html=True`` answers misses with the directory's ``404.html``;
    ``dotfiles=True`` serves names starting with a dot; ``media_types`` adds or overrides
    types by suffix (e.g. ``{".log": "text/plain"}``).
    """

    __slots__ = (
        "_cache_control",
        "_chunk_size",
        "_dotfiles",
        "_follow_symlinks",
        "_html",
        "_index",
        "_media_types",
        "_root",
    )

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        index: str | None = "index.html",
        follow_symlinks: bool = False,
        cache_control: CacheControl = "no-cache",
        html: bool = False,
        dotfiles: bool = False,
        media_types: Mapping[str, str] | None = None,
        chunk_size: int = 64 * 1024,
    ) -> None:
        path: str = os.fspath(directory)
        root = os.path.realpath(path)
        if not os.path.isdir(root):
            raise NotADirectoryError(f"StaticFiles needs a directory, not {directory!r}")
        if index is not None and (
            not index or index in (".", "..") or "/" in index or os.sep in index or "\0" in index
        ):
            raise ValueError(f"index must be a plain file name, not {index!r}")
        if isinstance(cache_control, str):
            check_header("cache-control", cache_control)
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self._root = root
        self._index = index
        self._follow_symlinks = follow_symlinks
        self._cache_control = cache_control
        self._html = html
        self._dotfiles = dotfiles
        self._media_types = {**DEFAULT_MEDIA_TYPES}
        for suffix, media_type in (media_types or {}).items():
            check_header("content-type", media_type)
            self._media_types[suffix.lower()] = media_type
        self._chunk_size = chunk_size

    @property
    def directory(self) -> str:
        """The served directory, with every symlink resolved (once, at construction)."""
        return self._root

    def mount(self, app: App, prefix: str = "/static", *, name: str = "static") -> None:
        """Serve the directory under ``prefix``: GET (and so HEAD) of ``prefix/{path:path}``.

        The route is called ``name`` (``app.url_for(name, path="css/site.css")``) and is left
        out of the OpenAPI document. With an index file, ``prefix`` itself redirects to
        ``prefix/``.
        """
        if (
            not prefix.startswith("/")
            or (prefix != "/" and prefix.endswith("/"))
            or "{" in prefix
            or "}" in prefix
        ):
            raise ValueError(
                f"prefix must be a literal path starting (not ending) with '/': {prefix!r}"
            )
        base = prefix.rstrip("/")
        app.get(f"{base}/{{path:path}}", name=name, include_in_schema=False)(self.serve)
        if base and self._index is not None:
            segment = base.rsplit("/", 1)[1]

            def redirect_to_root(request: Request) -> Response:
                return _redirect(request, segment)

            app.get(base, name=f"{name}.root", include_in_schema=False)(redirect_to_root)

    def serve(self, request: Request, path: str) -> Response:
        """Answer a GET or HEAD for ``path`` ("/"-separated, relative to the directory).

        Use it from your own handler to put the files behind a dependency or a check.
        Raises HTTPError 404 (or 403 for an unreadable file) instead of escaping the directory.
        """
        try:
            found = self._lookup(path)
        except PermissionError:
            raise HTTPError(403, "The file is not readable.") from None
        except (OSError, ValueError, FileChangedError):  # ENAMETOOLONG, ELOOP, bad names...
            found = None
        if isinstance(found, _Redirect):
            return _redirect(request, found.segment)
        if found is None:
            return self._not_found()
        return self._file_response(request, found)

    # --- resolution ------------------------------------------------------------------------

    def _segments(self, path: str) -> tuple[list[str], bool] | None:
        """The path's segments and whether it names a directory; None if it may not be served."""
        wants_directory = path == "" or path.endswith("/")
        body = path[:-1] if path.endswith("/") else path
        segments = body.split("/") if body else []
        for segment in segments:
            if (
                not segment
                or segment in (".", "..")
                or "\\" in segment
                or "\0" in segment
                or (segment[0] == "." and not self._dotfiles)
                or os.path.splitdrive(segment)[0]
            ):
                return None
        return segments, wants_directory

    def _resolve(self, path: str) -> str | None:
        """``path`` with symlinks resolved, or None if that leaves the directory."""
        real = os.path.realpath(path)
        if not self._follow_symlinks and os.path.commonpath((self._root, real)) != self._root:
            return None
        return real

    def _lookup(self, path: str) -> _Found | _Redirect | None:
        """The checked file ``path`` names, a redirect for a directory without "/", or None."""
        parsed = self._segments(path)
        if parsed is None:
            return None
        segments, wants_directory = parsed
        real = self._resolve(os.path.join(self._root, *segments))
        if real is None:
            return None
        info = os.stat(real)
        relative = "/".join(segments)
        if stat.S_ISREG(info.st_mode):
            if wants_directory:
                return None
            os.close(_open_checked(real, _identity(info)))
            return _Found(real, info, relative)
        if not stat.S_ISDIR(info.st_mode) or self._index is None:
            return None
        index = self._resolve(os.path.join(real, self._index))
        if index is None:
            return None
        index_info = os.stat(index)
        if not stat.S_ISREG(index_info.st_mode):
            return None
        os.close(_open_checked(index, _identity(index_info)))
        if not wants_directory:
            return _Redirect(segments[-1])
        return _Found(index, index_info, f"{relative}/{self._index}".lstrip("/"))

    # --- responses -------------------------------------------------------------------------

    def media_type(self, name: str) -> str:
        """The Content-Type for a file called ``name``: the table, then mimetypes, else binary."""
        suffix = os.path.splitext(name)[1].lower()
        known = self._media_types.get(suffix)
        if known is not None:
            return known
        guessed, encoding = mimetypes.guess_type(name, strict=False)
        if guessed is None or encoding is not None:  # "x.tar.gz" is gzip data, not a tar file
            return "application/octet-stream"
        return guessed

    def _not_found(self) -> Response:
        if self._html:
            try:
                page = self._lookup("404.html")
            except (OSError, ValueError, FileChangedError):
                page = None
            if isinstance(page, _Found):
                return _StaticFileResponse(page.path, page.info, 404, None, "text/html")
        raise HTTPError(404, _NOT_FOUND)

    def _file_response(self, request: Request, found: _Found) -> Response:
        info = found.info
        size = info.st_size
        modified = int(info.st_mtime)
        etag = f'"{size:x}-{info.st_mtime_ns:x}"'
        last_modified = http_date(modified)
        validators = [("etag", etag), ("last-modified", last_modified)]
        cache_control = self._cache_control
        if callable(cache_control):
            cache_control = cache_control(found.relative)
        if cache_control is not None:
            validators.append(("cache-control", cache_control))
        headers = request.headers
        outcome = _precondition(headers, etag, modified)
        if outcome == 304:
            return Response(status_code=304, headers=validators)
        if outcome == 412:
            raise HTTPError(
                412, "A precondition of the request does not hold.", headers={"etag": etag}
            )
        fields = [*validators, ("accept-ranges", "bytes"), ("x-content-type-options", "nosniff")]
        media_type = self.media_type(found.relative)
        requested = headers.get("range") if request.method == "GET" else None
        if_range = headers.get("if-range")
        if requested is not None and (
            if_range is None or _if_range_holds(if_range, etag, modified)
        ):
            ranges = parse_range(requested, size)
            if ranges is not None and not ranges:
                raise HTTPError(
                    416,
                    "None of the requested byte ranges is inside the file.",
                    headers={"content-range": f"bytes */{size}"},
                )
            if ranges is not None and len(ranges) == 1:
                start, stop = ranges[0]
                fields.append(("content-range", f"bytes {start}-{stop - 1}/{size}"))
                return _StaticFileResponse(
                    found.path,
                    info,
                    206,
                    fields,
                    media_type,
                    offset=start,
                    length=stop - start,
                    chunk_size=self._chunk_size,
                )
            # Several ranges: the whole file (200), which RFC 9110 §14.2 allows.
        return _StaticFileResponse(
            found.path, info, 200, fields, media_type, chunk_size=self._chunk_size
        )


def _redirect(request: Request, segment: str) -> Response:
    """307 to the same directory with a trailing slash, as a relative reference."""
    location = "./" + quote(segment, safe="") + "/"
    query = request.query_string.decode("latin-1")
    if query:
        try:
            check_header("location", location + "?" + query)
        except ValueError:
            pass
        else:
            location += "?" + query
    return Response(status_code=307, headers={"location": location})
