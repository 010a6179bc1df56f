"""Request and response cores: the per-message fields and the work done on every request.

``duoweb._speedups._messages`` compiles the same API into extension types, so building a
request from an environ or scope, building a response and listing its header fields cost no
Python frames. ``Request`` and ``Response`` subclass whichever core duoweb._select chose; this
module is the typed source of truth and the fallback when the extension is not built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from duoweb.headers import asgi_header, check_header, environ_header

if TYPE_CHECKING:
    from duoweb._serve_py import BackgroundTasks
    from duoweb.app import App
    from duoweb.endpoints import Endpoint
    from duoweb.headers import Headers, QueryParams
    from duoweb.proxies import RequestOrigin

RequestT = TypeVar("RequestT", bound="RequestCore")
ResponseT = TypeVar("ResponseT", bound="ResponseCore")

#: Header fields as a response constructor takes them.
HeadersInput = Mapping[str, str] | Iterable[tuple[str, str]] | None

_CONTENT_TYPES: dict[str, tuple[str, str]] = {}
#: The ASGI (bytes) form of each cached Content-Type field, so responses need not re-encode it.
_ENCODED_FIELDS: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def content_type_field(kind: str) -> tuple[str, str]:
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
            _ENCODED_FIELDS[field] = (b"content-type", value.encode("latin-1"))
    return field


def encode_fields(fields: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Checked header fields in ASGI's bytes form (Content-Type fields are encoded once)."""
    encoded: list[tuple[bytes, bytes]] = []
    for field in fields:
        pair = _ENCODED_FIELDS.get(field)
        if pair is None:
            pair = (field[0].encode("latin-1"), field[1].encode("latin-1"))
        encoded.append(pair)
    return encoded


def decode_path_info(path_info: str) -> str:
    """PEP 3333 carries the path as latin-1 "bytes in a str"; routes are matched on UTF-8 text.

    Invalid UTF-8 becomes U+FFFD, as ASGI servers' percent-decoding does, so both modes route
    the same bytes the same way.
    """
    if path_info.isascii():
        return path_info
    try:
        raw = path_info.encode("latin-1")
    except UnicodeEncodeError:  # a server that already decoded the path
        return path_info
    return raw.decode("utf-8", "replace")


class RequestCore:
    """The fields of every request; ``duoweb.Request`` adds the parsed views over them."""

    __slots__ = (
        "_cookies",
        "_headers",
        "_origin",
        "_query",
        "_source",
        "_source_is_scope",
        "_state",
        "app",
        "background",
        "body",
        "endpoint",
        "method",
        "path",
        "path_params",
        "query_string",
    )

    app: App
    #: This request's background tasks, once its handler or a dependency took a
    #: ``BackgroundTasks`` parameter (None otherwise, and again if the handler failed).
    background: BackgroundTasks | None
    #: The route that answers this request, once the dispatcher matched it (None before, and
    #: when no route matches); its ``template`` is what metrics label the request with.
    endpoint: Endpoint | None
    #: The request method, uppercase as the client sent it.
    method: str
    #: The percent-decoded path, relative to the mount point (root path / SCRIPT_NAME).
    path: str
    #: The raw query string, without the "?".
    query_string: bytes
    #: Path parameters converted to the handler's annotated types.
    path_params: dict[str, Any]
    #: The request body, read (within the size limit) before a handler that needs it runs.
    body: bytes
    _state: dict[str, Any] | None
    _origin: RequestOrigin | None
    _headers: Headers | None
    _query: QueryParams | None
    _cookies: dict[str, str] | None
    #: The WSGI environ or ASGI scope the request was read from (None: built otherwise).
    _source: dict[str, Any] | None
    _source_is_scope: bool

    def __init__(self, app: App, method: str, path: str, query_string: bytes) -> None:
        # Also fills the cores that wsgi_request and asgi_request make without their class's
        # own __init__ (they call this one directly).
        self.app = app
        self.method = method
        self.path = path
        self.query_string = query_string
        self.path_params = {}
        self.body = b""
        self.background = None
        self.endpoint = None
        self._state = None
        self._origin = None
        self._headers = None
        self._query = None
        self._cookies = None
        self._source = None
        self._source_is_scope = False

    def header(self, name: str) -> str | None:
        """The value of request header ``name`` (any case; repeats joined with ","), or None.

        The same answer as ``request.headers.get(name)``, read straight from the environ or
        the scope while the headers view has not been built.
        """
        headers = self._headers
        if headers is not None:
            return headers.get(name)
        source = self._source
        if source is None:  # not read from an environ or scope: the subclass's own view
            return cast("str | None", self.headers.get(name))  # type: ignore[attr-defined]
        if self._source_is_scope:
            return asgi_header(source["headers"], name)
        return environ_header(source, name)


def wsgi_request(cls: type[RequestT], app: App, environ: dict[str, Any]) -> RequestT:
    """A ``cls`` (which has an ``environ`` slot) for a WSGI environ, without running __init__."""
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING")
    request = cls.__new__(cls)
    RequestCore.__init__(
        request,
        app,
        environ["REQUEST_METHOD"],
        path if path.isascii() else decode_path_info(path),
        query.encode("latin-1", "replace") if query else b"",
    )
    request.environ = environ  # type: ignore[attr-defined]
    request._source = environ  # pyright: ignore[reportPrivateUsage]  # the core's own module
    return request


def asgi_request(
    cls: type[RequestT], app: App, scope: dict[str, Any], receive: Callable[[], Any]
) -> RequestT:
    """A ``cls`` (which has ``scope`` and ``receive`` slots) for an ASGI http scope."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    request = cls.__new__(cls)
    RequestCore.__init__(request, app, scope["method"], path, scope.get("query_string", b""))
    request.scope = scope  # type: ignore[attr-defined]
    request.receive = receive  # type: ignore[attr-defined]
    request._source = scope  # pyright: ignore[reportPrivateUsage]  # the core's own module
    request._source_is_scope = True  # pyright: ignore[reportPrivateUsage]
    return request


class ResponseCore:
    """Status, header fields and body of a response; ``duoweb.Response`` adds the API."""

    __slots__ = ("_headers", "body", "status_code")

    #: The class's own Content-Type field (set per subclass by ``Response``).
    _default_content_type: ClassVar[tuple[str, str] | None] = None

    status_code: int
    body: bytes
    _headers: list[tuple[str, str]]

    def __init__(
        self,
        content: bytes | str = b"",
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        if not 100 <= status_code <= 999:
            raise ValueError(f"status code must be three digits, not {status_code}")
        self.status_code = status_code
        body: bytes
        if type(content) is bytes:
            body = content
        elif isinstance(content, str):
            body = content.encode()
        else:
            body = bytes(content)
        self.body = body
        if media_type is None:
            default = type(self)._default_content_type
            self._headers = [] if default is None else [default]
        else:
            self._headers = [content_type_field(media_type)]
        if headers is not None:
            # A Mapping is read as names to values (cast: pyright would also let its keys be
            # the pairs an Iterable[tuple[str, str]] yields).
            items = (
                cast("Mapping[str, str]", headers).items()
                if isinstance(headers, Mapping)
                else headers
            )
            append = self.append_header
            for name, value in items:
                append(name, value)

    @classmethod
    def from_checked_parts(
        cls: type[ResponseT], status_code: int, body: bytes, headers: list[tuple[str, str]]
    ) -> ResponseT:
        """Build from parts already validated: status, body and fields are not checked again."""
        response = cls.__new__(cls)
        response.status_code = status_code
        response.body = body
        response._headers = headers
        return response

    def append_header(self, name: str, value: str) -> None:
        """Add a value for header ``name`` (for repeatable fields such as Set-Cookie)."""
        check_header(name, value)
        self._headers.append((name.lower(), value))

    def header_list(self) -> list[tuple[str, str]]:
        """The header fields to send, Content-Length included (RFC 9110 forbids it on 1xx/204)."""
        status = self.status_code
        if status == 204 or status == 304 or status < 200:
            return self._headers
        headers = self._headers.copy()
        headers.append(("content-length", str(len(self.body))))
        return headers

    def asgi_header_list(self) -> list[tuple[bytes, bytes]]:
        """``header_list()`` encoded for ASGI; every field was checked when it was added."""
        encoded = encode_fields(self._headers)
        status = self.status_code
        if not (status == 204 or status == 304 or status < 200):
            encoded.append((b"content-length", str(len(self.body)).encode()))
        return encoded
