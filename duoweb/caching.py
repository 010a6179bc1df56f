"""HTTP caching: strong ETags derived from the encoded body, 304 answers, Cache-Control.

The route options ``etag=True`` / ``cache_control=`` and ``App(etag=True)`` are served by
``duoweb.route_caching`` with the tools here, without a middleware layer. As middleware,
``app.middleware(ETagMiddleware())`` gives every 200 answer to GET and HEAD a strong ``ETag``
computed from the body bytes, and answers a matching ``If-None-Match`` with ``304 Not
Modified``, carrying the same validators and ``Vary`` as the 200 would have, without the
body. ``CacheControlMiddleware`` sets ``Cache-Control`` by route template. Nothing to install.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Final

from duoweb.requests import Request
from duoweb.responses import Response
from duoweb.streaming import StreamingResponse

__all__ = [
    "CacheControlMiddleware",
    "ETagMiddleware",
    "NotModifiedResponse",
    "cache_control",
    "if_none_match_hits",
    "strong_etag",
]

SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]

#: One entity-tag in an If-None-Match list (RFC 9110 §8.8.3): the opaque part captured.
_ENTITY_TAG: Final = re.compile(r'(?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"')

#: Header fields a 304 leaves out: they describe the body it does not carry (RFC 9110 §15.4.5).
_BODY_FIELDS: Final = frozenset(("content-type", "content-length", "content-encoding"))


def strong_etag(body: bytes) -> str:
    """A strong entity-tag for ``body``: a quoted 128-bit BLAKE2b digest in hex."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def if_none_match_hits(header: str, etag: str) -> bool:
    """True when an If-None-Match field value matches ``etag`` (weak comparison, or ``*``).

    Linear in the field's length; malformed members simply do not match.
    """
    if header.strip() == "*":
        return True
    opaque = etag[2:] if etag.startswith("W/") else etag
    opaque = opaque[1:-1]
    return any(found == opaque for found in _ENTITY_TAG.findall(header))


class NotModifiedResponse(Response):
    """A 304 standing for a full response: its header fields (validators, Vary…), no body.

    ``represents`` is that full response, so that middleware outside (compression) can give
    the 304 the ``Vary`` and ``ETag`` they would have given it.
    """

    __slots__ = ("represents",)

    def __init__(self, represents: Response) -> None:
        super().__init__(b"", status_code=304)
        self.represents = represents
        for name, value in represents.headers:
            if name not in _BODY_FIELDS:
                self.append_header(name, value)


class ETagMiddleware:
    """Strong ETags for 200 answers to GET and HEAD, and 304 for a matching If-None-Match.

    - ``routes``: only these route templates (e.g. ``["/catalog", "/items/{item_id}"]``);
      None (the default) for every route.

    The tag is computed from the bytes sent, so register it *before* (outside)
    ``CompressionMiddleware``: a compressed body then has its own tag, and a 304 carries the
    ``Vary: Accept-Encoding`` of the 200. A response that already has an ``ETag`` keeps it
    (and is still answered with 304 when it matches); streams are left alone. The handler
    still runs for a 304: the tag is the body's. Dual-mode: ``__call__`` is the ``def``
    middleware, ``call_async`` the ``async def`` one.
    """

    def __init__(self, *, routes: Iterable[str] | None = None) -> None:
        self.routes = None if routes is None else frozenset(routes)

    def _applies(self, request: Request) -> bool:
        method = request.method
        if method != "GET" and method != "HEAD":
            return False
        return (
            self.routes is None or request.app.route_template(method, request.path) in self.routes
        )

    def _finish(self, request: Request, response: Response) -> Response:
        if response.status_code != 200 or isinstance(response, StreamingResponse):
            return response
        etag = response.get_header("etag")
        if etag is None:
            etag = strong_etag(response.body)
            response.append_header("etag", etag)  # none yet: nothing to replace
        condition = request.header("if-none-match")
        if condition is not None and if_none_match_hits(condition, etag):
            return NotModifiedResponse(response)
        return response

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        if not self._applies(request):
            return call_next(request)
        return self._finish(request, call_next(request))

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        if not self._applies(request):
            return await call_next(request)
        return self._finish(request, await call_next(request))


def cache_control(
    *,
    max_age: int | None = None,
    s_maxage: int | None = None,
    public: bool = False,
    private: bool = False,
    no_cache: bool = False,
    no_store: bool = False,
    must_revalidate: bool = False,
    immutable: bool = False,
    stale_while_revalidate: int | None = None,
) -> str:
    """A ``Cache-Control`` field value from directives (RFC 9111 §5.2.2, RFC 8246, RFC 5861)."""
    if public and private:
        raise ValueError("a response cannot be both public and private")
    for name, seconds in (
        ("max_age", max_age),
        ("s_maxage", s_maxage),
        ("stale_while_revalidate", stale_while_revalidate),
    ):
        if seconds is not None and seconds < 0:
            raise ValueError(f"{name} must not be negative")
    directives = [
        name
        for name, wanted in (
            ("public", public),
            ("private", private),
            ("no-cache", no_cache),
            ("no-store", no_store),
            ("must-revalidate", must_revalidate),
            ("immutable", immutable),
        )
        if wanted
    ]
    if max_age is not None:
        directives.append(f"max-age={max_age}")
    if s_maxage is not None:
        directives.append(f"s-maxage={s_maxage}")
    if stale_while_revalidate is not None:
        directives.append(f"stale-while-revalidate={stale_while_revalidate}")
    if not directives:
        raise ValueError("name at least one directive")
    return ", ".join(directives)


class CacheControlMiddleware:
    """Set ``Cache-Control`` on successful answers to GET and HEAD, by route template.

    - ``routes``: route template -> field value (build it with :func:`cache_control`).
    - ``default``: the value for the other routes (None: leave them alone).

    A response whose handler set ``Cache-Control`` itself keeps it. 2xx and 304 answers
    get it; errors do not. Dual-mode like the other built-in middleware.
    """

    def __init__(self, routes: Mapping[str, str] | None = None, *, default: str | None = None):
        self.routes = dict(routes or {})
        self.default = default

    def _finish(self, request: Request, response: Response) -> Response:
        method = request.method
        status = response.status_code
        if (method != "GET" and method != "HEAD") or not (200 <= status < 300 or status == 304):
            return response
        if response.get_header("cache-control") is not None:
            return response
        policy = self.default
        if self.routes:
            route = request.app.route_template(method, request.path)
            policy = self.routes.get(route, policy) if route is not None else policy
        if policy is None:
            return response
        if status == 204 and not response.body and not response.headers:
            # ``None`` results share one 204 object: never change it, answer with a copy.
            return Response(b"", 204, {"cache-control": policy})
        response.set_header("cache-control", policy)
        return response

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        return self._finish(request, call_next(request))

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        return self._finish(request, await call_next(request))
