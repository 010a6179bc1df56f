"""Cross-Origin Resource Sharing: preflight answers and CORS headers, per the Fetch standard.

``app.middleware(CORSMiddleware(allow_origins=["https://app.example"]))`` lets pages from
that origin call the API from a browser. Preflights (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) are answered by the middleware itself: 204 with the
``Access-Control-Allow-*`` headers when everything asked for is allowed, otherwise a 403
problem without any CORS header (the browser then refuses the real request). Other requests
go to the app; their response gets ``Access-Control-Allow-Origin`` (and friends) only when
the origin is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from duoweb.errors import HTTPError
from duoweb.origins import AllowedOrigins, OriginRule
from duoweb.requests import Request
from duoweb.responses import Response, problem_response

__all__ = ["SAFELISTED_HEADERS", "CORSMiddleware", "OriginRule"]

#: Request headers every preflight may name: the CORS-safelisted ones, and Content-Type
#: because a JSON API's clients send ``application/json``, which browsers always preflight.
SAFELISTED_HEADERS: Final = frozenset(
    {"accept", "accept-language", "content-language", "content-type"}
)

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_PREFLIGHT_VARY: Final = (
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
)

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


def _tokens(values: str | Iterable[str], what: str, *, upper: bool) -> tuple[str, ...] | None:
    """Validated method or header names; None stands for ``"*"`` (anything, reflected)."""
    items = [values] if isinstance(values, str) else list(values)
    if "*" in items:
        if len(items) != 1:
            raise ValueError(f"{what}: '*' cannot be combined with names")
        return None
    names: dict[str, None] = {}
    for item in items:
        if not _TOKEN.fullmatch(item):
            raise ValueError(f"{what}: {item!r} is not a valid name")
        names[item.upper() if upper else item.lower()] = None
    return tuple(names)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _add_vary(response: Response, fields: Iterable[str]) -> None:
    """Add ``fields`` to the response's Vary header, once each; ``Vary: *`` is left alone."""
    present: list[str] = []
    for name, value in response.headers:
        if name == "vary":
            present.extend(_split(value))
    known = {item.lower() for item in present}
    if "*" in known:
        return
    missing = [field for field in fields if field.lower() not in known]
    if missing:
        response.set_header("vary", ", ".join(present + missing))


class CORSMiddleware:
    """Answer CORS preflights and add CORS headers to responses for allowed origins.

    - ``allow_origins``: ``"*"`` (any origin), origins such as ``"https://app.example"``
      (scheme, host and port if not the default; no path, no trailing slash), a compiled regex
      that must match the whole origin, or a predicate ``(origin) -> bool``. The opaque origin
      ``"null"`` is allowed only when listed by name (or by ``"*"`` without credentials).
    - ``allow_methods`` / ``allow_headers``: what a preflight may ask for; ``"*"`` allows
      anything (the request's own list is echoed back, which also works with credentials).
      The safelisted headers (:data:`SAFELISTED_HEADERS`) are always allowed.
    - ``expose_headers``: response headers a page may read beyond the safelisted ones.
    - ``allow_credentials``: let pages send cookies / HTTP auth. The allowed origin is then
      echoed instead of ``*``, as browsers require. Combined with ``allow_origins="*"`` it
      would hand every site the user's authenticated responses, so it is refused (ValueError)
      unless ``allow_any_origin_with_credentials=True`` says that is intended.
    - ``max_age``: seconds a browser may cache a preflight answer (None: don't say).

    It is dual-mode: ``__call__`` is the ``def`` middleware, ``call_async`` the ``async def``
    one; both do the same (cheap, never-blocking) work.
    """

    def __init__(
        self,
        *,
        allow_origins: OriginRule = (),
        allow_methods: str | Iterable[str] = ("GET", "HEAD", "POST"),
        allow_headers: str | Iterable[str] = (),
        expose_headers: str | Iterable[str] = (),
        allow_credentials: bool = False,
        max_age: int | None = 600,
        allow_any_origin_with_credentials: bool = False,
    ) -> None:
        self.allow_credentials = allow_credentials
        self._origins = AllowedOrigins(allow_origins)
        self._any_origin = self._origins.any_origin
        if self._any_origin and allow_credentials and not allow_any_origin_with_credentials:
            raise ValueError(
                "allow_origins='*' with allow_credentials=True would let every site read "
                "responses with the user's cookies; list the origins (or a regex or predicate), "
                "or pass allow_any_origin_with_credentials=True if that is really intended"
            )
        self._methods = _tokens(allow_methods, "allow_methods", upper=True)
        headers = _tokens(allow_headers, "allow_headers", upper=False)
        self._headers = None if headers is None else frozenset(headers) | SAFELISTED_HEADERS
        exposed = _tokens(expose_headers, "expose_headers", upper=False)
        if exposed is None and allow_credentials:
            raise ValueError(
                "expose_headers='*' means nothing to browsers when credentials are allowed; "
                "list the header names instead"
            )
        if max_age is not None and max_age < 0:
            raise ValueError("max_age must be zero or more seconds")
        # Header values that never change, built once.
        self._wildcard = self._any_origin and not allow_credentials
        self._vary_origin = not self._wildcard
        self._methods_value = None if self._methods is None else ", ".join(self._methods)
        self._headers_value = (
            None
            if headers is None
            else ", ".join(h for h in headers if h not in SAFELISTED_HEADERS)
        )
        self._expose_value = "*" if exposed is None else ", ".join(exposed)
        self._max_age_value = None if max_age is None else str(max_age)

    # --- decisions -------------------------------------------------------------------------

    def is_allowed_origin(self, origin: str) -> bool:
        """True when a request from ``origin`` may read the response."""
        # "null" (sandboxed frames, file: pages) is allowed only by name, or by a "*" that
        # grants no credentials (which any page could read anyway).
        return self._origins.allows(origin, null_by_star=self._wildcard)

    def preflight(self, request: Request) -> Response:
        """The answer to a preflight request: 204 with the allowances, or a 403 problem."""
        headers = request.headers
        origin = headers.get("origin") or ""
        method = (headers.get("access-control-request-method") or "").strip()
        requested = [h.lower() for h in headers.getall("access-control-request-headers")]
        refusal = None
        if not self.is_allowed_origin(origin):
            refusal = f"Cross-origin requests from {origin!r} are not allowed."
        elif not _TOKEN.fullmatch(method) or (
            self._methods is not None and method not in self._methods
        ):
            refusal = f"Cross-origin {method!r} requests are not allowed."
        else:
            allowed = self._headers
            refused = [
                h
                for h in requested
                if not _TOKEN.fullmatch(h) or (allowed is not None and h not in allowed)
            ]
            if refused:
                refusal = f"Cross-origin requests may not send {', '.join(refused)}."
        if refusal is not None:
            response = problem_response(HTTPError(403, refusal))
            _add_vary(response, _PREFLIGHT_VARY)
            return response
        response = Response(status_code=204)
        self._allow_origin(response, origin)
        response.set_header(
            "access-control-allow-methods",
            method if self._methods_value is None else self._methods_value,
        )
        allowed_headers = (
            ", ".join(requested) if self._headers_value is None else self._headers_value
        )
        if allowed_headers:
            response.set_header("access-control-allow-headers", allowed_headers)
        if self._max_age_value is not None:
            response.set_header("access-control-max-age", self._max_age_value)
        _add_vary(response, _PREFLIGHT_VARY)
        return response

    def _allow_origin(self, response: Response, origin: str) -> None:
        response.set_header("access-control-allow-origin", "*" if self._wildcard else origin)
        if self.allow_credentials:
            response.set_header("access-control-allow-credentials", "true")

    def decorate(self, request: Request, response: Response) -> Response:
        """Add the CORS headers an actual (non-preflight) request's response needs."""
        origin = request.headers.get("origin")
        if origin is not None and self.is_allowed_origin(origin):
            self._allow_origin(response, origin)
            if self._expose_value:
                response.set_header("access-control-expose-headers", self._expose_value)
        elif self._wildcard:
            # Fetch: a resource shared with everyone says so on every response, even to
            # requests without Origin, so a cached copy serves CORS requests too.
            response.set_header("access-control-allow-origin", "*")
        if self._vary_origin:
            # The answer depends on Origin: caches must key on it, for non-CORS requests too.
            _add_vary(response, ("Origin",))
        return response

    @staticmethod
    def is_preflight(request: Request) -> bool:
        """True for a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method."""
        if request.method != "OPTIONS":
            return False
        headers = request.headers
        return "origin" in headers and "access-control-request-method" in headers

    # --- the middleware, in both kinds -----------------------------------------------------

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        if self.is_preflight(request):
            return self.preflight(request)
        return self.decorate(request, call_next(request))

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        if self.is_preflight(request):
            return self.preflight(request)
        return self.decorate(request, await call_next(request))
