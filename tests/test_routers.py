"""Router, include_router, route/router dependencies and router middleware, in both modes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

import pytest

from duoweb import (
    App,
    Body,
    Depends,
    Header,
    HTTPError,
    Request,
    Response,
    RouteDefinitionError,
    Router,
)
from tests.conftest import MakeClient

KEY = {"x-key": "secret"}
AsyncNext = Callable[[Request], Awaitable[Response]]


def require_key(x_key: Annotated[str | None, Header()] = None) -> None:
    if x_key != "secret":
        raise HTTPError(401, "A valid X-Key header is required.")


def build_app(asynchronous: bool, calls: list[str]) -> App:
    users = Router(prefix="/users", tags=["users"], dependencies=[Depends(require_key)])

    if asynchronous:

        @users.get("/{user_id}")
        async def get_user(user_id: int) -> dict[str, int]:
            calls.append("handler")
            return {"id": user_id}

    else:

        @users.get("/{user_id}")
        def get_user(user_id: int) -> dict[str, int]:  # type: ignore[misc]
            calls.append("handler")
            return {"id": user_id}

    def audit() -> Iterator[None]:
        calls.append("audit-in")
        yield
        calls.append("audit-out")

    @users.post("/{user_id}/ping", status_code=202, dependencies=[Depends(audit)])
    def ping(user_id: int) -> dict[str, int]:
        calls.append("ping")
        return {"pinged": user_id}

    api = Router(prefix="/api")
    v1 = Router(prefix="/v1", tags=["v1"])
    v1.include_router(users)
    api.include_router(v1)
    app = App()
    app.include_router(api)
    return app


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async"])
def test_nested_routers_compose_prefixes_and_dependencies(
    make_client: MakeClient, asynchronous: bool
) -> None:
    calls: list[str] = []
    app = build_app(asynchronous, calls)
    with make_client(app) as client:
        refused = client.get("/api/v1/users/7")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert calls == []  # the router dependency answered before the handler ran
        assert client.get("/api/v1/users/7", headers=KEY).json() == {"id": 7}
        assert client.get("/users/7", headers=KEY).status_code == 404
        assert client.post("/api/v1/users/7/ping", headers=KEY).status_code == 202
    assert calls == ["handler", "audit-in", "ping", "audit-out"]
    assert app.url_for("get_user", user_id=3) == "/api/v1/users/3"
    operation = app.openapi()["paths"]["/api/v1/users/{user_id}"]["get"]
    assert operation["tags"] == ["v1", "users"]
    assert operation["operationId"] == "get_user"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async"])
def test_route_dependencies_run_before_the_handler_and_results_are_dropped(
    make_client: MakeClient, asynchronous: bool
) -> None:
    order: list[str] = []

    async def first() -> str:
        order.append("first")
        return "ignored"

    def second(request: Request) -> int:
        order.append(f"second {request.method}")
        return 2

    app = App()

    if asynchronous:

        @app.get("/r", dependencies=[Depends(first), Depends(second)])
        async def handler() -> dict[str, bool]:
            order.append("handler")
            return {"ok": True}

    else:

        @app.get("/r", dependencies=[Depends(first), Depends(second)])
        def handler() -> dict[str, bool]:  # type: ignore[misc]
            order.append("handler")
            return {"ok": True}

    with make_client(app) as client:
        assert client.get("/r").json() == {"ok": True}
    assert order == ["first", "second GET", "handler"]


def test_router_dependencies_are_in_the_route_dependency_graph() -> None:
    def shared() -> int:
        return 1

    router = Router(prefix="/p", dependencies=[Depends(require_key)])

    @router.get("/x", dependencies=[Depends(shared)])
    def x(value: Annotated[int, Depends(shared)]) -> int:
        return value

    app = App()
    app.include_router(router)
    (endpoint,) = [e for e in app.endpoints if e.template == "/p/x"]
    assert [d.provider for d in endpoint.dependencies] == [require_key, shared]
    # One graph: the router's provider first; a cached provider asked for twice runs once.
    assert [node.provider for node in endpoint.nodes] == [require_key, shared]
    parameters = app.openapi()["paths"]["/p/x"]["get"]["parameters"]
    assert {"name": "x-key", "in": "header"}.items() <= parameters[0].items()


def test_dependency_overrides_reach_router_dependencies(make_client: MakeClient) -> None:
    router = Router(dependencies=[Depends(require_key)])

    @router.get("/open")
    def open_() -> str:
        return "in"

    app = App()
    app.include_router(router)
    app.dependency_overrides[require_key] = lambda: None
    with make_client(app) as client:
        assert client.get("/open").json() == "in"


def test_options_of_every_router_on_the_way_are_composed() -> None:
    inner = Router(
        prefix="/inner",
        tags=["inner"],
        responses={404: "Not here"},
        deprecated=True,
    )

    @inner.put("/thing", tags=["thing"], responses={409: "Conflict"})
    def put_thing() -> None:
        return None

    hidden = Router(prefix="/hidden", include_in_schema=False)

    @hidden.delete("/gone")
    def gone() -> None:
        return None

    outer = Router(prefix="/outer", tags=["outer"])
    outer.include_router(inner, tags=["included"])
    outer.include_router(hidden)
    app = App()
    app.include_router(outer, prefix="/root")
    document = app.openapi()
    operation = document["paths"]["/root/outer/inner/thing"]["put"]
    assert operation["tags"] == ["outer", "included", "inner", "thing"]
    assert operation["deprecated"] is True
    assert {"404", "409"} <= set(operation["responses"])
    assert "/root/outer/hidden/gone" not in document["paths"]
    methods = {(info.method, info.path) for info in app.routes()}
    assert ("DELETE", "/root/outer/hidden/gone") in methods


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async"])
def test_router_middleware_wraps_only_its_own_routes(
    make_client: MakeClient, asynchronous: bool
) -> None:
    seen: list[str] = []
    router = Router(prefix="/r")

    if asynchronous:

        @router.middleware
        async def tag(request: Request, call_next: AsyncNext) -> Response:
            seen.append(request.path)
            response = await call_next(request)
            response.set_header("x-router", "yes")
            return response

    else:

        @router.middleware
        def tag(request: Request, call_next: Callable[[Request], Response]) -> Response:
            seen.append(request.path)
            response = call_next(request)
            response.set_header("x-router", "yes")
            return response

    @router.get("/in/{n}")
    def inside(n: int) -> int:
        return n

    @router.get("/fail")
    def fail() -> int:
        raise HTTPError(418, "teapot")

    app = App()

    @app.get("/out")
    def outside() -> int:
        return 0

    app.include_router(router)
    with make_client(app) as client:
        response = client.get("/r/in/5")
        assert response.json() == 5
        assert response.headers["x-router"] == "yes"
        failed = client.get("/r/fail")  # errors reach the middleware as responses
        assert failed.status_code == 418
        assert failed.headers["x-router"] == "yes"
        assert "x-router" not in client.get("/out").headers
        assert client.get("/r/nothing").status_code == 404
    assert seen == ["/r/in/5", "/r/fail"]


def test_a_middleware_may_answer_by_itself(make_client: MakeClient) -> None:
    router = Router()

    @router.middleware
    def closed(request: Request, call_next: Any) -> Response:
        return Response(b"closed", status_code=503)

    @router.post("/x")
    def x(body: Annotated[dict[str, int], Body()]) -> int:
        return 1

    app = App()
    app.include_router(router)
    with make_client(app) as client:
        assert client.post("/x", json={"a": 1}).status_code == 503


def test_one_router_included_twice_keeps_unique_names(make_client: MakeClient) -> None:
    items = Router(prefix="/items")

    @items.get("/{item_id}", operation_id="readItem")
    def read_item(item_id: int) -> int:
        return item_id

    app = App()
    app.include_router(items, prefix="/v1")
    app.include_router(items, prefix="/v2")
    app.include_router(items, prefix="/v3", name="v3")
    assert app.url_for("read_item", item_id=1) == "/v1/items/1"
    assert app.url_for("read_item_2", item_id=1) == "/v2/items/1"
    assert app.url_for("v3.read_item", item_id=1) == "/v3/items/1"
    ids = [
        operation["operationId"]
        for item in app.openapi()["paths"].values()
        for operation in item.values()
    ]
    assert ids == ["readItem", "readItem_2", "v3.readItem"]
    with make_client(app) as client:
        assert [client.get(f"/v{n}/items/4").json() for n in (1, 2, 3)] == [4, 4, 4]


def test_a_router_name_namespaces_its_routes() -> None:
    users = Router(prefix="/users", name="users")

    @users.get("/")
    def listing() -> list[int]:
        return []

    api = Router(prefix="/api", name="api")
    api.include_router(users)
    app = App()
    app.include_router(api)
    assert app.url_for("api.users.listing") == "/api/users/"


def test_two_handlers_with_one_name_are_an_error_naming_both() -> None:
    first = Router(prefix="/a")
    second = Router(prefix="/b")

    @first.get("/x")
    def show() -> int:
        return 1

    def make_other() -> Router:
        @second.get("/x")
        def show() -> int:
            return 2

        return second

    app = App()
    app.include_router(first)
    with pytest.raises(RouteDefinitionError, match=r"'show'.*test_routers.*show.*make_other"):
        app.include_router(make_other())


def test_routes_added_after_inclusion_are_refused() -> None:
    router = Router(prefix="/late")
    App().include_router(router)
    with pytest.raises(RouteDefinitionError, match="after it was included"):

        @router.get("/x")
        def x() -> int:
            return 1


@pytest.mark.parametrize("prefix", ["users", "/users/", "users/"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(RouteDefinitionError, match="prefix"):
        Router(prefix=prefix)


def test_a_router_cannot_include_itself() -> None:
    router = Router()
    with pytest.raises(RouteDefinitionError, match="itself"):
        router.include_router(router)


def test_dependencies_must_be_depends_markers() -> None:
    with pytest.raises(TypeError, match="Depends"):
        Router(dependencies=[require_key])  # type: ignore[list-item]


def test_postponed_annotations_resolve_in_the_scope_using_the_router() -> None:
    router = Router()

    class Local:
        pass

    def provide() -> Local:
        return Local()

    @router.get("/local")
    def local(value: Annotated[Local, Depends(provide)]) -> str:
        return type(value).__name__

    app = App()
    app.include_router(router)
    from duoweb.testing import TestClient

    with TestClient(app) as client:
        assert client.get("/local").json() == "Local"


def test_websocket_routes_get_prefix_dependencies_and_middleware() -> None:
    from duoweb import WebSocket
    from duoweb.testing import TestClient, WebSocketRejected

    seen: list[str] = []
    live = Router(prefix="/live", dependencies=[Depends(require_key)])

    @live.middleware
    async def note(request: Request, call_next: AsyncNext) -> Response:
        seen.append(f"before {request.path}")
        response = await call_next(request)
        seen.append(f"after {response.status_code}")
        return response

    @live.websocket("/echo/{room}")
    async def echo(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"{room}:{await websocket.receive_text()}")

    app = App()
    app.include_router(live, prefix="/ws")
    with TestClient(app, mode="asgi") as client:
        with client.websocket_connect("/ws/live/echo/a", headers=KEY) as session:
            session.send_text("hi")
            assert session.receive_text() == "a:hi"
        with pytest.raises(WebSocketRejected), client.websocket_connect("/ws/live/echo/a"):
            pass
    assert seen[:2] == ["before /ws/live/echo/a", "after 101"]
    assert seen[2:] == ["before /ws/live/echo/a", "after 401"]
