"""Rate limits as dependencies and as app middleware: 429 problems with the draft's headers."""

from __future__ import annotations

from typing import Annotated

import pytest

from duoweb import App, Depends, Request
from duoweb.ratelimit import (
    RateLimit,
    RateLimiter,
    RateLimitHeadersMiddleware,
    RateLimitMiddleware,
    api_key,
    rate_limit,
)
from tests.conftest import MakeClient


@pytest.fixture
def limiter() -> RateLimiter:
    return RateLimiter("memory://", prefix="tests")


def check_refusal(response: object, limit: str) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 429
    assert problem["title"] == "Too Many Requests"
    assert f"the limit is {limit}" in problem["detail"]
    assert response.headers["ratelimit-limit"] == limit.split("/")[0]
    assert response.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert 0 <= int(response.headers["ratelimit-reset"]) <= 60


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_a_route_dependency_limits_per_client_address(
    kind: str, limiter: RateLimiter, make_client: MakeClient
) -> None:
    app = App()
    app.middleware(RateLimitHeadersMiddleware())
    per_client = rate_limit("3/minute", limiter=limiter)
    if kind == "def":

        @app.get("/search")
        def search(_: Annotated[None, Depends(per_client)], q: str = "") -> str:
            return q

    else:

        @app.get("/search")
        async def search_async(_: Annotated[None, Depends(per_client)], q: str = "") -> str:
            return q

    @app.get("/free")
    def free() -> str:
        return "free"

    with make_client(app) as client:
        remaining = [client.get("/search").headers["ratelimit-remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        check_refusal(client.get("/search"), "3/minute")
        assert client.get("/free").status_code == 200
        assert "ratelimit-limit" not in client.get("/free").headers


def test_a_shared_dependency_counts_across_routes_unless_per_route(
    limiter: RateLimiter, make_client: MakeClient
) -> None:
    app = App()
    shared = rate_limit("2/minute", limiter=limiter)
    each = rate_limit("2/minute", limiter=limiter, per_route=True)

    @app.get("/a", name="a")
    def a(_: Annotated[None, Depends(shared)]) -> str:
        return "a"

    @app.get("/b", name="b")
    def b(_: Annotated[None, Depends(shared)]) -> str:
        return "b"

    @app.get("/c/{n}")
    def c(n: int, _: Annotated[None, Depends(each)]) -> int:
        return n

    @app.get("/d")
    def d(_: Annotated[None, Depends(each)]) -> str:
        return "d"

    with make_client(app) as client:
        assert [client.get(p).status_code for p in ("/a", "/b", "/a")] == [200, 200, 429]
        # per route: /c/1 and /c/2 are one route; /d has its own count
        codes = [client.get(p).status_code for p in ("/c/1", "/c/2", "/c/3", "/d", "/d")]
        assert codes == [200, 200, 429, 200, 200]


def test_trusted_proxies_decide_the_client_address(
    limiter: RateLimiter, make_client: MakeClient
) -> None:
    app = App(trusted_proxies="127.0.0.1")
    per_client = rate_limit("1/minute", limiter=limiter)

    @app.get("/")
    def index(_: Annotated[None, Depends(per_client)]) -> str:
        return "ok"

    with make_client(app) as client:
        for address in ("203.0.113.1", "203.0.113.2"):
            assert client.get("/", headers={"x-forwarded-for": address}).status_code == 200
        assert client.get("/", headers={"x-forwarded-for": "203.0.113.1"}).status_code == 429


def test_untrusted_forwarding_headers_do_not_dodge_the_limit(
    limiter: RateLimiter, make_client: MakeClient
) -> None:
    app = App()  # no trusted proxies: X-Forwarded-For is the client's own claim
    per_client = rate_limit("1/minute", limiter=limiter)

    @app.get("/")
    def index(_: Annotated[None, Depends(per_client)]) -> str:
        return "ok"

    with make_client(app) as client:
        assert client.get("/", headers={"x-forwarded-for": "198.51.100.1"}).status_code == 200
        assert client.get("/", headers={"x-forwarded-for": "198.51.100.2"}).status_code == 429


def test_keys_from_an_api_key_header(limiter: RateLimiter, make_client: MakeClient) -> None:
    app = App()
    per_key = rate_limit("1/minute", key=api_key(), limiter=limiter)

    @app.get("/")
    def index(_: Annotated[None, Depends(per_key)]) -> str:
        return "ok"

    with make_client(app) as client:
        assert client.get("/", headers={"x-api-key": "alice"}).status_code == 200
        assert client.get("/", headers={"x-api-key": "bob"}).status_code == 200
        assert client.get("/", headers={"x-api-key": "alice"}).status_code == 429
        assert client.get("/").status_code == 200  # no key: counted by address
        assert client.get("/").status_code == 429


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_keys_from_another_dependency_value(
    kind: str, limiter: RateLimiter, make_client: MakeClient
) -> None:
    app = App()
    calls: list[str] = []

    if kind == "def":

        def current_user(request: Request) -> str:
            user = request.headers.get("x-user", "anonymous")
            calls.append(user)
            return user

    else:

        async def current_user(request: Request) -> str:  # type: ignore[misc]
            user = request.headers.get("x-user", "anonymous")
            calls.append(user)
            return user

    per_user = rate_limit("2/minute", key=Depends(current_user), limiter=limiter)

    @app.get("/me")
    def me(
        user: Annotated[str, Depends(current_user)], _: Annotated[None, Depends(per_user)]
    ) -> str:
        return user

    with make_client(app) as client:
        alice = [client.get("/me", headers={"x-user": "alice"}).status_code for _ in range(3)]
        assert alice == [200, 200, 429]
        assert client.get("/me", headers={"x-user": "bob"}).json() == "bob"
    assert len(calls) == 4  # the user dependency ran once per request, shared with the limit


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_app_wide_middleware_with_exemptions(
    kind: str, limiter: RateLimiter, make_client: MakeClient
) -> None:
    app = App()
    statuses: list[int] = []

    @app.middleware
    def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = call_next(request)
        statuses.append(response.status_code)
        return response

    app.middleware(RateLimitMiddleware(RateLimit("2/minute", limiter=limiter), exempt=["/health"]))
    if kind == "def":

        @app.get("/work")
        def work() -> str:
            return "done"

    else:

        @app.get("/work")
        async def work_async() -> str:
            return "done"

    @app.get("/health")
    def health() -> str:
        return "ok"

    with make_client(app) as client:
        first = client.get("/work")
        assert first.headers["ratelimit-limit"] == "2"
        assert first.headers["ratelimit-remaining"] == "1"
        client.get("/work")
        check_refusal(client.get("/nowhere"), "2/minute")  # every path counts
        assert [client.get("/health").status_code for _ in range(3)] == [200, 200, 200]
    assert statuses[:3] == [200, 200, 429]  # outer middleware see the 429 as a response


def test_several_windows_report_the_tightest(limiter: RateLimiter, make_client: MakeClient) -> None:
    app = App()
    app.middleware(RateLimitMiddleware("5/second;2/hour", limiter=limiter))

    @app.get("/")
    def index() -> str:
        return "ok"

    with make_client(app) as client:
        first = client.get("/")
        assert first.headers["ratelimit-limit"] == "2"
        assert first.headers["ratelimit-remaining"] == "1"
        client.get("/")
        refused = client.get("/")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 60  # the hour window is the one that binds


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="strategy"):
        RateLimiter(strategy="leaky")
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit("lots per day")


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
def test_every_strategy_enforces_the_limit(strategy: str, make_client: MakeClient) -> None:
    app = App()
    limited = rate_limit("2/minute", limiter=RateLimiter(strategy=strategy))

    @app.get("/")
    def index(_: Annotated[None, Depends(limited)]) -> str:
        return "ok"

    with make_client(app) as client:
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_router_and_route_dependencies_forms(
    kind: str, limiter: RateLimiter, make_client: MakeClient
) -> None:
    from duoweb import Router

    app = App()
    budget = rate_limit("3/minute", limiter=limiter)
    api = Router(prefix="/api", dependencies=[Depends(budget)])
    if kind == "def":

        @api.get("/one")
        def one() -> int:
            return 1

        @api.get("/two")
        def two() -> int:
            return 2

    else:

        @api.get("/one")
        async def one_async() -> int:
            return 1

        @api.get("/two")
        async def two_async() -> int:
            return 2

    @app.get("/solo", dependencies=[Depends(rate_limit("1/minute", limiter=limiter))])
    def solo() -> str:
        return "solo"

    app.include_router(api)
    with make_client(app) as client:
        codes = [client.get(path).status_code for path in ("/api/one", "/api/two", "/api/one")]
        assert codes == [200, 200, 200]
        check_refusal(client.get("/api/two"), "3/minute")  # one budget for the whole router
        assert [client.get("/solo").status_code for _ in range(2)] == [200, 429]
