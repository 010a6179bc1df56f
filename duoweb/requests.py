"""The Request a handler sees: one shape under WSGI and ASGI, parsed lazily."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import msgspec

from duoweb._messages import RequestCore
from duoweb.errors import HTTPError
from duoweb.headers import (
    Headers,
    QueryParams,
    TooManyQueryParameters,
    best_match,
    parse_content_length,
    parse_content_type,
    parse_cookie,
    parse_query,
)
from duoweb.proxies import RequestOrigin, resolve_origin


def body_too_large(limit: int) -> HTTPError:
    """The 413 problem a body reader raises for a body over the route's ``limit`` bytes."""
    return HTTPError(413, f"The request body is larger than {limit} bytes.")


class BodyAlreadyRead(RuntimeError):
    """A second read of a body that a chunk reader (e.g. a middleware's) already consumed.

    The application's mistake, not the client's: it is a 500 and a logged traceback naming
    it, where the read would otherwise wait for a body that is gone or blame the client.
    """

    def __init__(self) -> None:
        super().__init__(
            "The request body was already read by a chunk reader (body_chunks or "
            "receive_body_chunks, e.g. in a middleware); a body can be read only once."
        )


class Request(RequestCore):
    """An HTTP request. Protocol adapters subclass it; handlers only use what is here.

    The fields (``app``, ``method``, ``path``, ``query_string``, ``path_params``, ``body``)
    live in the compiled core; everything parsed from them is computed on first use.
    """

    __slots__ = ()

    #: The query as ``query`` parsed it, or None while nothing has read ``query`` yet: the
    #: core's own field under a public name, so a hot-path reader that already has the parsed
    #: query (``request.parsed_query or request.query``) skips the property's call.
    parsed_query: QueryParams | None = vars(RequestCore)["_query"]

    # --- filled in by the protocol adapter -------------------------------------------------

    def _build_headers(self) -> Headers:
        """Build the headers view from the protocol's own representation."""
        raise NotImplementedError

    def _raw_content_length(self) -> str | None:
        """The Content-Length field as sent, without building the whole headers view."""
        raise NotImplementedError

    def raw_content_type(self) -> str | None:
        """The Content-Type field as sent, without building the whole headers view."""
        raise NotImplementedError

    def read_body(self, limit: int) -> bytes:
        """Read the whole body synchronously (WSGI); 413 if it declares or has over ``limit``."""
        raise NotImplementedError

    async def receive_body(self, limit: int) -> bytes:
        """Receive the whole body (ASGI); 413 if it declares or has over ``limit`` bytes."""
        raise NotImplementedError

    def body_chunks(self, limit: int) -> Iterator[bytes]:
        """The body in chunks as it is read (WSGI); the same limits and errors as read_body."""
        raise NotImplementedError

    def receive_body_chunks(self, limit: int) -> AsyncIterator[bytes]:
        """The body in chunks as it arrives (ASGI); the same limits and errors as receive_body."""
        raise NotImplementedError

    def _server_scheme(self) -> str:
        """The URL scheme the server received the request on ("http" or "https")."""
        raise NotImplementedError

    def _peer(self) -> tuple[str, int] | None:
        """The connection's remote (host, port), when the server tells it."""
        raise NotImplementedError

    @property
    def root_path(self) -> str:
        """The path prefix the app is mounted at (WSGI SCRIPT_NAME, ASGI root_path)."""
        raise NotImplementedError

    # --- parsed views ----------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """Free per-request storage for middleware and dependencies."""
        state = self._state
        if state is None:
            state = self._state = {}
        return state

    @property
    def headers(self) -> Headers:
        """Case-insensitive, multi-valued, read-only request headers."""
        headers = self._headers
        if headers is None:
            headers = self._headers = self._build_headers()
        return headers

    @property
    def query(self) -> QueryParams:
        """The query string parsed into a multi-valued mapping."""
        query = self._query
        if query is None:
            try:
                query = parse_query(self.query_string, self.app.max_query_params)
            except TooManyQueryParameters as exc:
                raise HTTPError(400, str(exc)) from None
            self._query = query
        return query

    @property
    def cookies(self) -> dict[str, str]:
        """Request cookies by name (the first of repeated names wins)."""
        cookies = self._cookies
        if cookies is None:
            cookies = self._cookies = parse_cookie(self.header("cookie") or "")
        return cookies

    @property
    def content_type(self) -> tuple[str, dict[str, str]]:
        """The media type (lowercase) and its parameters; ("", {}) when absent."""
        return parse_content_type(self.headers.get("content-type", ""))

    @property
    def content_length(self) -> int | None:
        """The declared body length; a malformed value is a 400 problem."""
        raw = self._raw_content_length()
        if raw is None:
            return None
        try:
            return parse_content_length(raw)
        except ValueError:
            raise HTTPError(400, "Content-Length must be a single decimal number") from None

    def accepts(self, *offers: str) -> str | None:
        """The offered media type the client's Accept header prefers, or None."""
        return best_match(self.headers.get("accept"), offers)

    def json(self) -> Any:
        """The body decoded as JSON; malformed JSON is a 400 problem."""
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError as exc:
            raise HTTPError(400, f"Malformed JSON body: {exc}") from None
        except UnicodeDecodeError:  # msgspec raises it for invalid UTF-8 inside a string
            raise HTTPError(400, "Malformed JSON body: invalid UTF-8 in a string") from None
        except RecursionError:
            raise HTTPError(400, "The JSON body is nested too deeply.") from None

    # --- where the request came from ------------------------------------------------------

    @property
    def origin(self) -> RequestOrigin:
        """Scheme, host and client, from trusted proxies' forwarding headers when configured.

        Forwarded / X-Forwarded-* headers are believed only when the connection comes from
        an address in ``App(trusted_proxies=...)``; otherwise they are ignored.
        """
        origin = self._origin
        if origin is None:
            origin = self._origin = resolve_origin(
                self.app.trusted_proxies, self._peer(), self.headers, self._server_scheme()
            )
        return origin

    @property
    def scheme(self) -> str:
        """The URL scheme the client used ("http" or "https")."""
        if not self.app.trusted_proxies:
            return self._server_scheme()
        return self.origin.scheme

    @property
    def client(self) -> tuple[str, int] | None:
        """The client's (host, port); the port is 0 when a proxy did not say it."""
        if not self.app.trusted_proxies:
            return self._peer()
        return self.origin.client

    @property
    def valid_host(self) -> str | None:
        """The host (and port) the client addressed when it is a valid one, else None."""
        return self.origin.host

    @property
    def host(self) -> str:
        """The host (and port) the client addressed; "localhost" when nobody said.

        A Host header that is not a valid ``host[:port]`` answers 400: it would end up in
        ``url``, ``base_url`` and ``url_for``.
        """
        host = self.origin.host
        if host is None:
            if self.headers.get("host"):
                raise HTTPError(400, "The Host header is not a valid host.")
            return "localhost"
        return host

    @property
    def base_url(self) -> str:
        """``scheme://host/root_path``: where this app is, as the client sees it."""
        return f"{self.scheme}://{self.host}{self.root_path}"

    @property
    def url(self) -> str:
        """The URL the client requested, as the client sees it."""
        query = self.query_string.decode("latin-1")
        path = quote(self.path, safe="/:@!$&'()*+,;=-._~")
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def url_for(self, name: str, /, **params: Any) -> str:
        """The absolute URL of the route called ``name``, as the client would reach it."""
        return self.base_url + self.app.url_for(name, **params)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path!r}>"
