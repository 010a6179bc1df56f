"""Rate limits with the ``limits`` library: per route, router or app; in memory or in Redis.

``per_client = rate_limit("10/minute")`` is a dependency: ``Depends(per_client)`` on a route
(or on every route of a router) counts that route's requests per client address, found
through the app's trusted proxies. ``key=`` picks another key: :func:`api_key`, any
``(request) -> str``, or ``Depends(provider)`` to count per the value of another dependency
(the signed-in user, a tenant). ``app.middleware(RateLimitMiddleware(...))`` limits the whole
app. Exceeding a limit answers ``429`` problem+json with ``Retry-After`` and the IETF draft's
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``.

Counts live in a :class:`RateLimiter`'s storage: ``"memory://"`` for one process,
``"redis://host:6379"`` (``pip install duoweb[redis]``) for many workers and machines.
"""

# No ``from __future__ import annotations``: the providers built below carry real annotations.

import itertools
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, Final, NamedTuple

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import STRATEGIES
from limits.strategies import RateLimiter as _Strategy

from duoweb.dependencies import Depends
from duoweb.errors import HTTPError
from duoweb.requests import Request
from duoweb.responses import Response, problem_response

__all__ = [
    "STATE_KEY",
    "Quota",
    "RateLimit",
    "RateLimitHeadersMiddleware",
    "RateLimitMiddleware",
    "RateLimiter",
    "api_key",
    "client_address",
    "rate_limit",
]

#: The ``request.state`` key holding the tightest :class:`Quota` a request was counted in.
STATE_KEY: Final = "rate_limit"

KeyFunction = Callable[[Request], str]
SyncNext = Callable[[Request], Response]
AsyncNext = Callable[[Request], Awaitable[Response]]


def client_address(request: Request) -> str:
    """The client's IP address, from trusted proxies' forwarding headers when configured."""
    client = request.client
    return client[0] if client is not None else "unknown"


def api_key(header: str = "X-API-Key") -> KeyFunction:
    """A key function: the request's API key header; requests without one count per address."""
    name = header.lower()

    def key(request: Request) -> str:
        value = request.headers.get(name)
        return f"key:{value}" if value else f"address:{client_address(request)}"

    return key


class Quota(NamedTuple):
    """Where a client stands against one limit after a request was counted."""

    limit: int
    remaining: int
    reset_after: int  # seconds until the window frees capacity again

    def headers(self) -> dict[str, str]:
        """The IETF draft's RateLimit-* fields for this quota."""
        return {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset_after),
        }


class RateLimiter:
    """Where counts are kept and how windows move; share one among limits and workers.

    - ``storage``: a ``limits`` storage URI (``"memory://"``, ``"redis://127.0.0.1:6379/0"``,
      ``"redis+sentinel://…"``, ``"memcached://…"``) or a ``limits`` storage object.
    - ``strategy``: ``"fixed-window"``, ``"moving-window"`` or ``"sliding-window-counter"``.
    - ``prefix``: put before every key, so that apps sharing a Redis do not share counts.
    """

    def __init__(
        self,
        storage: str | Storage = "memory://",
        *,
        strategy: str = "fixed-window",
        prefix: str = "duoweb",
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; pick one of {sorted(STRATEGIES)}")
        self.storage = storage_from_string(storage) if isinstance(storage, str) else storage
        self.strategy: _Strategy = STRATEGIES[strategy](self.storage)
        self.prefix = prefix

    @property
    def in_memory(self) -> bool:
        """True when counts stay in this process (no I/O: checked without a thread hop)."""
        return isinstance(self.storage, MemoryStorage)

    def hit(self, items: Iterable[RateLimitItem], *identifiers: str) -> tuple[bool, Quota]:
        """Count one request against every item; (allowed, the tightest quota)."""
        allowed = True
        tightest: Quota | None = None
        for item in items:
            if not self.strategy.hit(item, self.prefix, *identifiers):
                allowed = False
            stats = self.strategy.get_window_stats(item, self.prefix, *identifiers)
            quota = Quota(
                item.amount,
                max(stats.remaining, 0),
                max(math.ceil(stats.reset_time - time.time()), 0),
            )
            if tightest is None or (quota.remaining, -quota.reset_after) < (
                tightest.remaining,
                -tightest.reset_after,
            ):
                tightest = quota
        assert tightest is not None
        return allowed, tightest

    def reset(self) -> None:
        """Forget every count (tests, maintenance)."""
        self.storage.reset()


_default: RateLimiter | None = None
_NUMBERS = itertools.count(1)


def default_limiter() -> RateLimiter:
    """The process-wide in-memory limiter used when none is given."""
    global _default
    if _default is None:
        _default = RateLimiter()
    return _default


class RateLimit:
    """A limit (``"10/minute"``, ``"5/second;100/hour"``) counted per key in a limiter.

    - ``key``: ``(request) -> str`` (default :func:`client_address`).
    - ``limiter``: where counts are kept (default: one in-memory limiter per process).
    - ``scope``: counts are kept per scope and key; limits with the same scope share counts
      (default: a scope of its own per RateLimit object, numbered in creation order, the
      same in every worker process; name it when different programs share a Redis).
    - ``per_route``: count each route separately even when the limit is shared by a router.
    """

    def __init__(
        self,
        limit: str,
        *,
        key: KeyFunction = client_address,
        limiter: RateLimiter | None = None,
        scope: str | None = None,
        per_route: bool = False,
    ) -> None:
        self.items = parse_many(limit)
        if not self.items:
            raise ValueError(f"no rate limit in {limit!r}")
        self.text = limit
        self.key = key
        self.limiter = limiter or default_limiter()
        # Numbered in creation order: the same in every worker running the same code.
        self.scope = scope or f"{limit}#{next(_NUMBERS)}"
        self.per_route = per_route

    def check(self, request: Request, key: str) -> Quota:
        """Count ``request`` under ``key``; raise the 429 problem when over the limit."""
        if self.per_route:
            route = request.app.route_template(request.method, request.path) or ""
            allowed, quota = self.limiter.hit(self.items, self.scope, route, key)
        else:
            allowed, quota = self.limiter.hit(self.items, self.scope, key)
        state = request.state
        previous = state.get(STATE_KEY)
        if previous is None or quota.remaining < previous.remaining:
            state[STATE_KEY] = quota
        if not allowed:
            retry_after = max(quota.reset_after, 1)
            raise HTTPError(
                429,
                f"Too many requests: the limit is {self.text}. Retry in {retry_after} s.",
                headers={**quota.headers(), "retry-after": str(retry_after)},
            )
        return quota

    def check_request(self, request: Request) -> Quota:
        """Count ``request`` under its key function's key."""
        return self.check(request, self.key(request))


def rate_limit(
    limit: str,
    *,
    key: KeyFunction | Depends = client_address,
    limiter: RateLimiter | None = None,
    scope: str | None = None,
    per_route: bool = False,
) -> Callable[..., None]:
    """A dependency counting each request it is run for; ``Depends(...)`` it on routes.

    ``key=Depends(provider)`` counts per the provider's value (converted with ``str``), which
    the request's other parameters share (one call per request). The returned provider's
    ``rate_limit`` attribute is the :class:`RateLimit`.
    """
    if isinstance(key, Depends):
        limit_object = RateLimit(limit, limiter=limiter, scope=scope, per_route=per_route)

        def provider_with_key(request: Request, value: Any) -> None:
            limit_object.check(request, str(value))

        provider_with_key.__annotations__ = {
            "request": Request,
            "value": Annotated[Any, key],
            "return": None,
        }
        provider: Callable[..., None] = provider_with_key
    else:
        limit_object = RateLimit(limit, key=key, limiter=limiter, scope=scope, per_route=per_route)

        def provider_by_request(request: Request) -> None:
            limit_object.check_request(request)

        provider = provider_by_request
    provider.__qualname__ = provider.__name__ = f"rate_limit({limit!r})"
    provider.rate_limit = limit_object  # type: ignore[attr-defined]
    return provider


def _add_headers(request: Request, response: Response) -> Response:
    quota = request.state.get(STATE_KEY)
    if quota is not None and response.get_header("ratelimit-limit") is None:
        for name, value in quota.headers().items():
            response.set_header(name, value)
    return response


class RateLimitHeadersMiddleware:
    """Add the RateLimit-* fields to answers of requests that a rate-limit dependency counted.

    429 answers always carry them; this adds them to the others. Dual-mode.
    """

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        return _add_headers(request, call_next(request))

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        return _add_headers(request, await call_next(request))


class RateLimitMiddleware:
    """Limit every request to the app (``limit`` as for :class:`RateLimit`), with headers.

    ``exempt`` lists route templates left alone (health checks, metrics). Each answer gets
    the RateLimit-* fields; over the limit, the 429 problem. Under ASGI a limiter that is not
    in memory (Redis) is asked from the app's thread pool, never on the event loop.
    """

    def __init__(
        self,
        limit: str | RateLimit,
        *,
        key: KeyFunction = client_address,
        limiter: RateLimiter | None = None,
        exempt: Iterable[str] = (),
    ) -> None:
        self.limit = (
            limit if isinstance(limit, RateLimit) else RateLimit(limit, key=key, limiter=limiter)
        )
        self.exempt = frozenset(exempt)

    def _exempt(self, request: Request) -> bool:
        if not self.exempt:
            return False
        return request.app.route_template(request.method, request.path) in self.exempt

    def __call__(self, request: Request, call_next: SyncNext) -> Response:
        """The ``def`` middleware."""
        if self._exempt(request):
            return call_next(request)
        try:
            self.limit.check_request(request)
        except HTTPError as refused:  # answered here, so outer middleware see the 429
            return problem_response(refused)
        return _add_headers(request, call_next(request))

    async def call_async(self, request: Request, call_next: AsyncNext) -> Response:
        """The ``async def`` middleware."""
        if self._exempt(request):
            return await call_next(request)
        try:
            if self.limit.limiter.in_memory:
                self.limit.check_request(request)
            else:
                await request.app.thread_pool.run(self.limit.check_request, request)
        except HTTPError as refused:
            return problem_response(refused)
        return _add_headers(request, await call_next(request))
