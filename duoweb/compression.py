"""Response compression negotiated from Accept-Encoding: gzip, plus brotli and zstd if installed.

``app.middleware(CompressionMiddleware())`` compresses responses of a textual media type
(JSON, text, JavaScript, XML, SVG...) whose body is at least ``minimum_size`` bytes, with the
coding the client prefers among those this process can produce. Streaming responses are
compressed chunk by chunk, each chunk flushed so that the client can decode it at once (so
Server-Sent Events keep arriving event by event).
"""

from __future__ import annotations

import importlib
import threading
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import ModuleType
from typing import Any, Final, Protocol

from duoweb.headers import parse_content_type, parse_qvalue
from duoweb.requests import Request
from duoweb.responses import Response
from duoweb.streaming import Chunk, ChunkSource, FileResponse, StreamingResponse, as_bytes

__all__ = [
    "DEFAULT_MEDIA_TYPES",
    "CompressionMiddleware",
    "available_encodings",
    "negotiate_encoding",
]

#: Media types compressed by default: ``type/*`` and ``*+suffix`` patterns are allowed.
DEFAULT_MEDIA_TYPES: Final = (
    "text/*",
    "application/json",
    "application/*+json",
    "application/x-ndjson",
    "application/javascript",
    "application/ecmascript",
    "application/xml",
    "application/*+xml",
    "application/yaml",
    "application/graphql",
    "application/wasm",
    "image/svg+xml",
    "image/x-icon",
    "font/ttf",
    "font/otf",
)

#: Every coding duoweb knows, in the server's order of preference (best first).
KNOWN_ENCODINGS: Final = ("zstd", "br", "gzip")

# Bodies at least this large are compressed in the thread pool by the async middleware, so
# the event loop keeps serving other requests meanwhile (zlib and friends release the GIL).
_OFFLOAD_SIZE = 64 * 1024
_CACHE_LIMIT = 1024
# A response with one of these is already encoded, or is a part of one.
_NOT_AGAIN = ("content-encoding", "content-range")

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


# --- codecs --------------------------------------------------------------------------------


class _StreamEncoder(Protocol):
    def compress(self, data: bytes) -> bytes:
        """Compress ``data`` and flush, so everything so far can be decoded by the client."""
        ...

    def finish(self) -> bytes:
        """End the compressed stream."""
        ...


class _Codec(Protocol):
    name: str

    def compress(self, data: bytes) -> bytes:
        """Compress a whole body."""
        ...

    def stream(self) -> _StreamEncoder:
        """A new encoder for a body that arrives in chunks."""
        ...


class _GzipStream:
    def __init__(self, level: int) -> None:
        self._encoder = zlib.compressobj(level, zlib.DEFLATED, 31)

    def compress(self, data: bytes) -> bytes:
        return self._encoder.compress(data) + self._encoder.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._encoder.flush(zlib.Z_FINISH)


class _Gzip:
    name = "gzip"

    def __init__(self, level: int) -> None:
        self.level = level

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, self.level, 31)  # 31: gzip framing, mtime 0

    def stream(self) -> _StreamEncoder:
        return _GzipStream(self.level)


class _BrotliStream:
    def __init__(self, module: Any, quality: int) -> None:
        self._encoder = module.Compressor(quality=quality)

    def compress(self, data: bytes) -> bytes:
        return bytes(self._encoder.process(data)) + bytes(self._encoder.flush())

    def finish(self) -> bytes:
        return bytes(self._encoder.finish())


class _Brotli:
    name = "br"

    def __init__(self, module: ModuleType, quality: int) -> None:
        self.module = module
        self.quality = quality

    def compress(self, data: bytes) -> bytes:
        return bytes(self.module.compress(data, quality=self.quality))

    def stream(self) -> _StreamEncoder:
        return _BrotliStream(self.module, self.quality)


class _ZstandardStream:
    def __init__(self, module: Any, level: int) -> None:
        self._module = module
        self._encoder = module.ZstdCompressor(level=level).compressobj()

    def compress(self, data: bytes) -> bytes:
        compressed = bytes(self._encoder.compress(data))
        return compressed + bytes(self._encoder.flush(self._module.COMPRESSOBJ_FLUSH_BLOCK))

    def finish(self) -> bytes:
        return bytes(self._encoder.flush())


class _Zstandard:
    """zstd through the ``zstandard`` package; compressors are per thread (not thread-safe)."""

    name = "zstd"

    def __init__(self, module: ModuleType, level: int) -> None:
        self.module = module
        self.level = level
        self._local = threading.local()

    def compress(self, data: bytes) -> bytes:
        compressor = getattr(self._local, "compressor", None)
        if compressor is None:
            compressor = self._local.compressor = self.module.ZstdCompressor(level=self.level)
        return bytes(compressor.compress(data))

    def stream(self) -> _StreamEncoder:
        return _ZstandardStream(self.module, self.level)


class _StdlibZstdStream:
    def __init__(self, module: Any, level: int) -> None:
        self._flush_block = module.ZstdCompressor.FLUSH_BLOCK
        self._encoder = module.ZstdCompressor(level=level)

    def compress(self, data: bytes) -> bytes:
        return bytes(self._encoder.compress(data, mode=self._flush_block))

    def finish(self) -> bytes:
        return bytes(self._encoder.flush())


class _StdlibZstd:
    """zstd through Python 3.14's ``compression.zstd``."""

    name = "zstd"

    def __init__(self, module: ModuleType, level: int) -> None:
        self.module = module
        self.level = level

    def compress(self, data: bytes) -> bytes:
        return bytes(self.module.compress(data, level=self.level))

    def stream(self) -> _StreamEncoder:
        return _StdlibZstdStream(self.module, self.level)


def _import_first(*names: str) -> ModuleType | None:
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _brotli_module() -> ModuleType | None:
    return _import_first("brotli", "brotlicffi")


def _zstd_module() -> ModuleType | None:
    return _import_first("zstandard", "compression.zstd")


def available_encodings() -> tuple[str, ...]:
    """The codings this process can produce, best first: zstd and br only when installed."""
    found = {"gzip"}
    if _zstd_module() is not None:
        found.add("zstd")
    if _brotli_module() is not None:
        found.add("br")
    return tuple(name for name in KNOWN_ENCODINGS if name in found)


def _codec(name: str, gzip_level: int, brotli_quality: int, zstd_level: int) -> _Codec:
    if name == "gzip":
        return _Gzip(gzip_level)
    if name == "br":
        module = _brotli_module()
        if module is None:
            raise ValueError("'br' needs the brotli (or brotlicffi) package")
        return _Brotli(module, brotli_quality)
    if name == "zstd":
        module = _zstd_module()
        if module is None:
            raise ValueError("'zstd' needs the zstandard package (or Python 3.14+)")
        if module.__name__ == "zstandard":
            return _Zstandard(module, zstd_level)
        return _StdlibZstd(module, zstd_level)
    raise ValueError(f"unknown content coding {name!r}; known: {', '.join(KNOWN_ENCODINGS)}")


# --- negotiation ---------------------------------------------------------------------------


def _parse_accept_encoding(value: str) -> dict[str, float]:
    """``{coding: q}`` from an Accept-Encoding value; malformed elements are ignored."""
    weights: dict[str, float] = {}
    for element in value.split(","):
        coding, _, params = element.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q: float | None = 1.0
        for param in params.split(";") if params else ():
            key, _, raw = param.partition("=")
            if key.strip().lower() == "q":
                q = parse_qvalue(raw.strip())
        if q is None:
            continue
        if coding == "x-gzip":
            coding = "gzip"
        weights.setdefault(coding, q)  # the first mention of a coding counts
    return weights


def negotiate_encoding(accept_encoding: str | None, offers: Iterable[str]) -> str | None:
    """The coding to use per RFC 9110 section 12.5.3, or None for no coding (identity).

    ``offers`` is in the server's order of preference, which breaks ties between equal
    q-values. A coding is acceptable if listed with q > 0, or covered by ``*`` with q > 0;
    ``q=0`` refuses. An explicit ``identity`` preferred over every acceptable coding wins.
    No Accept-Encoding header means no compression (nothing says the client can decode it).
    """
    if accept_encoding is None:
        return None
    weights = _parse_accept_encoding(accept_encoding)
    wildcard = weights.get("*")
    best: str | None = None
    best_q = 0.0
    for coding in offers:
        q = weights.get(coding, wildcard)
        if q is not None and q > best_q:
            best, best_q = coding, q
    if best is None:
        return None
    identity = weights.get("identity")
    if identity is not None and identity > best_q:
        return None
    return best


# --- which responses -----------------------------------------------------------------------


def _media_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    exact: set[str] = set()
    prefixes: set[str] = set()
    suffixes: set[str] = set()
    for pattern in patterns:
        pattern = pattern.strip().lower()
        main, slash, sub = pattern.partition("/")
        if not slash or not main or not sub or main == "*":
            raise ValueError(
                f"media type pattern {pattern!r} is not 'type/sub', 'type/*', or 'type/*+suffix'"
            )
        if sub == "*":
            prefixes.add(main)
        elif sub.startswith("*+"):
            suffixes.add(f"{main}/{sub[1:]}")
        else:
            exact.add(pattern)

    def matches(media_type: str) -> bool:
        if media_type in exact:
            return True
        main, _, sub = media_type.partition("/")
        if main in prefixes:
            return True
        plus = sub.rfind("+")
        return plus >= 0 and f"{main}/{sub[plus:]}" in suffixes

    return matches


def _weak_etag(response: Response) -> None:
    """A strong ETag names exact bytes; the compressed body is different bytes (RFC 9110 8.8.3)."""
    etag = response.get_header("etag")
    if etag is not None and not etag.startswith("W/"):
        response.set_header("etag", "W/" + etag)


def _add_vary(response: Response, field: str) -> None:
    present: list[str] = []
    for name, value in response.headers:
        if name == "vary":
            present.extend(item.strip() for item in value.split(",") if item.strip())
    lowered = {item.lower() for item in present}
    if "*" not in lowered and field.lower() not in lowered:
        response.set_header("vary", ", ".join([*present, field]))


# --- streaming -----------------------------------------------------------------------------


def _compress_sync(stream: Iterable[Chunk], codec: _Codec) -> Iterator[bytes]:
    iterator = iter(stream)
    try:
        encoder = codec.stream()
        for chunk in iterator:
            data = as_bytes(chunk)
            if data:
                yield encoder.compress(data)
        yield encoder.finish()
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


async def _compress_async(stream: AsyncIterable[Chunk], codec: _Codec) -> AsyncIterator[bytes]:
    iterator = aiter(stream)
    try:
        encoder = codec.stream()
        async for chunk in iterator:
            data = as_bytes(chunk)
            if data:
                yield encoder.compress(data)
        yield encoder.finish()
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


def _compressed_stream(stream: ChunkSource, codec: _Codec) -> ChunkSource:
    if isinstance(stream, AsyncIterable):
        return _compress_async(stream, codec)
    return _compress_sync(stream, codec)


# --- the middleware ------------------------------------------------------------------------


class CompressionMiddleware:
    """Compress eligible responses with the best coding both sides support.

    A response is eligible when its status is not 1xx/204/206/304, it has no Content-Encoding
    yet, its Cache-Control does not say ``no-transform``, its media type matches
    ``media_types``, and its body is at least ``minimum_size`` bytes (a stream of unknown
    length always qualifies). Every eligible response gets ``Vary: Accept-Encoding``, whether
    or not this client's Accept-Encoding led to compressing it. A body that would not shrink
    is sent as is. Strong ETags become weak ones when the body is compressed. A 304 that
    says which full response it stands for (``duoweb.caching``'s) gets that response's
    ``Vary`` and ``ETag`` as they would have been sent.

    ``encodings`` lists the codings to offer, best first (default: every available one,
    zstd > br > gzip); asking for one whose package is missing is an error.

    It is dual-mode: ``__call__`` is the ``def`` middleware; ``call_async`` is the
    ``async def`` one and compresses large bodies in the app's thread pool.
    """

    def __init__(
        self,
        *,
        minimum_size: int = 500,
        media_types: Iterable[str] = DEFAULT_MEDIA_TYPES,
        encodings: Iterable[str] | None = None,
        gzip_level: int = 6,
        brotli_quality: int = 4,
        zstd_level: int = 3,
    ) -> None:
        if minimum_size < 0:
            raise ValueError("minimum_size must be zero or more bytes")
        self.minimum_size = minimum_size
        names = available_encodings() if encodings is None else tuple(dict.fromkeys(encodings))
        if not names:
            raise ValueError("encodings must name at least one content coding")
        self._codecs = {
            name: _codec(name, gzip_level, brotli_quality, zstd_level) for name in names
        }
        self.encodings: tuple[str, ...] = tuple(self._codecs)
        self._media_type_matches = _media_matcher(media_types)
        self._type_cache: dict[str, bool] = {}
        self._choice_cache: dict[str, str | None] = {}

    def _compressible_type(self, content_type: str) -> bool:
        known = self._type_cache.get(content_type)
        if known is None:
            media_type, _ = parse_content_type(content_type)
            known = bool(media_type) and self._media_type_matches(media_type)
            if len(self._type_cache) >= _CACHE_LIMIT:
                self._type_cache.clear()
            self._type_cache[content_type] = known
        return known

    def choose(self, request: Request) -> str | None:
        """The coding to use for this request's responses, or None."""
        accept = request.headers.get("accept-encoding")
        if accept is None:
            return None
        try:
            return self._choice_cache[accept]
        except KeyError:
            pass
        choice = negotiate_encoding(accept, self.encodings)
        if len(self._choice_cache) >= _CACHE_LIMIT:
            self._choice_cache.clear()
        self._choice_cache[accept] = choice
        return choice

    def is_eligible(self, response: Response) -> bool:
        """True when the response is one this middleware compresses for willing clients."""
        status = response.status_code
        if status < 200 or status in (204, 206, 304):
            return False
        content_type = None
        for name, value in response.headers:
            if name == "content-type":
                content_type = value if content_type is None else content_type
            elif name in _NOT_AGAIN or (
                name == "cache-control" and "no-transform" in value.lower()
            ):
                return False
        if content_type is None or not self._compressible_type(content_type):
            return False
        if isinstance(response, StreamingResponse):
            declared = response.get_header("content-length")
            return declared is None or not declared.isdigit() or int(declared) >= self.minimum_size
        return len(response.body) >= self.minimum_size

    def _plan(self, request: Request, response: Response) -> _Codec | None:
        """Decide: add Vary if eligible, and the codec to compress with, if any."""
        if not self.is_eligible(response):
            return None
        _add_vary(response, "Accept-Encoding")
        choice = self.choose(request)
        return None if choice is None else self._codecs[choice]

    @staticmethod
    def _mark(response: Response, codec: _Codec) -> None:
        response.set_header("content-encoding", codec.name)
        response.delete_header("content-length")
        _weak_etag(response)

    def _apply_stream(self, response: StreamingResponse, codec: _Codec) -> Response:
        stream = _compressed_stream(response.stream, codec)
        if isinstance(response, FileResponse):
            # The adapters send a FileResponse's file themselves (sendfile, pathsend), which
            # would bypass the compressed stream: answer with a plain stream instead.
            replacement = StreamingResponse(stream, response.status_code, response.headers)
            self._mark(replacement, codec)
            return replacement
        response.stream = stream
        self._mark(response, codec)
        return response

    @staticmethod
    async def _compressed(request: Request, codec: _Codec, body: bytes) -> bytes:
        """``body`` compressed, in the app's thread pool when it is large."""
        if len(body) >= _OFFLOAD_SIZE:
            return await request.app.thread_pool.run(codec.compress, body)
        return codec.compress(body)

    def _standing_for(
        self, response: Response, original: Response, codec: _Codec | None, shrinks: bool
    ) -> Response:
        """A 304 gets the ``Vary`` and ``ETag`` of the 200 it stands for (RFC 9110 §15.4.5)."""
        if codec is not None and shrinks:
            self._mark(original, codec)
        for name in ("vary", "etag"):
            value = original.get_header(name)
            if value is not None:
                response.set_header(name, value)
        return response

    def _represented(self, response: Response) -> Response | None:
        """The full response a 304 (from ``duoweb.caching``) stands for, if it says."""
        if response.status_code != 304:
            return None
        return getattr(response, "represents", None)

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        response = call_next(request)
        original = self._represented(response)
        if original is not None:
            codec = self._plan(request, original)
            body = original.body
            shrinks = codec is not None and len(codec.compress(body)) < len(body)
            return self._standing_for(response, original, codec, shrinks)
        codec = self._plan(request, response)
        if codec is None:
            return response
        if isinstance(response, StreamingResponse):
            return self._apply_stream(response, codec)
        compressed = codec.compress(response.body)
        if len(compressed) < len(response.body):
            response.body = compressed
            self._mark(response, codec)
        return response

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        response = await call_next(request)
        original = self._represented(response)
        if original is not None:
            codec = self._plan(request, original)
            shrinks = codec is not None and (
                len(await self._compressed(request, codec, original.body)) < len(original.body)
            )
            return self._standing_for(response, original, codec, shrinks)
        codec = self._plan(request, response)
        if codec is None:
            return response
        if isinstance(response, StreamingResponse):
            return self._apply_stream(response, codec)
        body = response.body
        compressed = await self._compressed(request, codec, body)
        if len(compressed) < len(body):
            response.body = compressed
            self._mark(response, codec)
        return response
