"""Endpoint.call_path: each route shape gets its path, and every path answers the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pytest

from duoweb import App, BackgroundTasks, Depends, Header, HTTPError, Query
from duoweb.endpoints import CallPath, Endpoint
from tests.conftest import MakeClient


def endpoint_of(app: App, template: str) -> Endpoint:
    """The one endpoint registered for ``template``."""
    (endpoint,) = [e for e in app.endpoints if e.template == template]
    return endpoint


def token(authorization: Annotated[str | None, Header()] = None) -> str:
    """A lone provider: one header, passed by position."""
    if authorization is None:
        raise HTTPError(401, "no token")
    return authorization


def limited(*, limit: Annotated[int, Query(ge=1)] = 5) -> int:
    """A lone provider whose parameter is keyword-only."""
    return limit


#: What the providers and handlers below did, for the app being tested.
EVENTS: list[str] = []


def opened() -> Iterator[str]:
    """A generator provider."""
    EVENTS.append("open")
    yield "resource"
    EVENTS.append("close")


def outer(inner: Annotated[str, Depends(token)]) -> str:
    """A provider with a dependency of its own."""
    return inner.upper()


def shapes_app() -> App:
    """One route per call path, each with a ``def`` and an ``async def`` handler."""
    app = App()
    EVENTS.clear()
    log = EVENTS

    for prefix, is_async in (("/def", False), ("/async", True)):

        def route(
            path: str, handler: Callable[..., Any], prefix: str = prefix, **options: Any
        ) -> None:
            name = (prefix + path).replace("/", "_").strip("_").split("_{")[0]
            app.get(prefix + path, name=name, **options)(handler)

        async def direct_async(item_id: int) -> int:
            return item_id

        def direct(item_id: int) -> int:
            return item_id

        route("/direct/{item_id}", direct_async if is_async else direct)

        if is_async:

            async def own(q: int, tasks: BackgroundTasks) -> list[Any]:
                tasks.add(log.append, f"task {q}")
                return [q]

            async def provided(who: Annotated[str, Depends(token)], q: int = 0) -> list[Any]:
                return [who, q]

            async def keyword(limit: Annotated[int, Depends(limited)]) -> int:
                return limit

            async def guarded() -> str:
                return "in"

            async def graph(who: Annotated[str, Depends(outer)]) -> str:
                return who

            async def stacked(res: Annotated[str, Depends(opened)]) -> str:
                log.append("handler")
                return res
        else:

            def own(q: int, tasks: BackgroundTasks) -> list[Any]:  # type: ignore[misc]
                tasks.add(log.append, f"task {q}")
                return [q]

            def provided(  # type: ignore[misc]
                who: Annotated[str, Depends(token)], q: int = 0
            ) -> list[Any]:
                return [who, q]

            def keyword(limit: Annotated[int, Depends(limited)]) -> int:  # type: ignore[misc]
                return limit

            def guarded() -> str:  # type: ignore[misc]
                return "in"

            def graph(who: Annotated[str, Depends(outer)]) -> str:  # type: ignore[misc]
                return who

            def stacked(res: Annotated[str, Depends(opened)]) -> str:  # type: ignore[misc]
                log.append("handler")
                return res

        route("/own", own)
        route("/provided", provided)
        route("/pooled", provided, inline=False)
        route("/keyword", keyword)
        route("/guarded", guarded, dependencies=[Depends(token)])
        route("/several", provided, dependencies=[Depends(limited)])
        route("/graph", graph)
        route("/stacked", stacked)
    return app


@pytest.mark.parametrize("prefix", ["/def", "/async"])
def test_each_shape_gets_its_call_path(prefix: str) -> None:
    app = shapes_app()
    expected = {
        "/direct/{item_id}": CallPath.DIRECT if prefix == "/def" else CallPath.PATH_ONLY,
        "/own": CallPath.OWN,
        "/provided": CallPath.PROVIDER,
        "/pooled": CallPath.PROVIDER,
        "/keyword": CallPath.PROVIDER,
        "/guarded": CallPath.PROVIDER,
        "/several": CallPath.PROVIDERS,
        "/graph": CallPath.GRAPH,
        "/stacked": CallPath.STACKED,
    }
    for path, call_path in expected.items():
        assert endpoint_of(app, prefix + path).call_path is call_path, path


@pytest.mark.parametrize("prefix", ["/def", "/async"])
def test_every_call_path_answers(make_client: MakeClient, prefix: str) -> None:
    bearer = {"authorization": "t0k"}
    app = shapes_app()
    log = EVENTS
    with make_client(app) as client:
        assert client.get(f"{prefix}/direct/7").json() == 7
        assert client.get(f"{prefix}/own?q=3").json() == [3]
        assert "task 3" in log
        assert client.get(f"{prefix}/provided?q=2", headers=bearer).json() == ["t0k", 2]
        assert client.get(f"{prefix}/pooled", headers=bearer).json() == ["t0k", 0]
        assert client.get(f"{prefix}/keyword?limit=9").json() == 9
        assert client.get(f"{prefix}/keyword").json() == 5
        assert client.get(f"{prefix}/guarded", headers=bearer).json() == "in"
        assert client.get(f"{prefix}/several?q=4&limit=2", headers=bearer).json() == ["t0k", 4]
        assert client.get(f"{prefix}/graph", headers=bearer).json() == "T0K"
        assert client.get(f"{prefix}/stacked").json() == "resource"
    assert log[-3:] == ["open", "handler", "close"]


@pytest.mark.parametrize("prefix", ["/def", "/async"])
def test_the_provider_path_checks_everything_before_calling(
    make_client: MakeClient, prefix: str
) -> None:
    with make_client(shapes_app()) as client:
        assert client.get(f"{prefix}/provided").status_code == 401
        assert client.get(f"{prefix}/guarded").status_code == 401
        both = client.get(f"{prefix}/provided?q=x")  # no header (a 401) and a bad query
        assert both.status_code == 422
        assert [e["loc"] for e in both.json()["errors"]] == [["query", "q"]]
        assert client.get(f"{prefix}/several").status_code == 401
        several = client.get(f"{prefix}/several?limit=0&q=x")  # no header, two bad values
        assert several.status_code == 422
        locations = sorted(e["loc"] for e in several.json()["errors"])
        assert locations == [["query", "limit"], ["query", "q"]]
        bad = client.get(f"{prefix}/keyword?limit=0")
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["query", "limit"]


def test_the_provider_path_logs_a_failing_provider(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()

    def broken(x_key: Annotated[str | None, Header()] = None) -> str:
        raise LookupError("provider bug")

    @app.get("/broken")
    def uses(value: Annotated[str, Depends(broken)]) -> str:
        return value

    assert endpoint_of(app, "/broken").call_path is CallPath.PROVIDER
    with make_client(app) as client:
        response = client.get("/broken")
    assert response.status_code == 500
    assert "provider bug" not in response.text
    assert any("broken" in record.getMessage() for record in caplog.records)


def test_an_override_re_plans_the_call_path(make_client: MakeClient) -> None:
    app = shapes_app()
    log = EVENTS
    endpoint = endpoint_of(app, "/def/provided")

    def fake() -> Iterator[str]:
        log.append("fake open")
        yield "fake"
        log.append("fake close")

    app.dependency_overrides[token] = fake
    assert endpoint.call_path.name == "STACKED"
    with make_client(app) as client:
        assert client.get("/def/provided").json() == ["fake", 0]
    assert log == ["fake open", "fake close"]
    del app.dependency_overrides[token]
    assert endpoint.call_path is CallPath.PROVIDER
    with make_client(app) as client:
        assert client.get("/def/provided").status_code == 401
