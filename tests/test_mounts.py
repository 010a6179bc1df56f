"""App.mount: duoweb, WSGI and ASGI apps under a prefix, in both modes, with their lifecycles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from duoweb import App, Request, Response
from duoweb.testing import TestClient
from tests.conftest import MakeClient


def wsgi_echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A bare WSGI app answering with its SCRIPT_NAME and PATH_INFO."""
    body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    start_response("200 OK", [("content-type", "text/plain"), ("x-kind", "wsgi")])
    return [body]


class ASGIEcho:
    """A bare ASGI app answering with root_path and path, running the lifespan protocol."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["greeting"] = "hello"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = f"{scope['root_path']}|{scope['path']}|{scope['state'].get('greeting')}"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body.encode()})


def describe(admin: App, user_id: int, request: Request) -> dict[str, Any]:
    return {"id": user_id, "root": request.root_path, "url": admin.url_for("user", user_id=user_id)}


def admin_app(asynchronous: bool, events: list[str]) -> App:
    admin = App(title="Admin")

    @admin.on_startup
    def started() -> None:
        events.append("admin up")

    @admin.on_shutdown
    def stopped() -> None:
        events.append("admin down")

    @admin.middleware
    def mark(request: Request, call_next: Callable[[Request], Any]) -> Any:
        response = call_next(request)
        response.set_header("x-admin", "1")
        return response

    @admin.exception_handler(LookupError)
    def not_found(request: Request, exc: LookupError) -> Response:
        return Response(b"admin: no such thing", status_code=409)

    @admin.get("/")
    def root() -> str:
        return "admin root"

    @admin.get("/lookup")
    def lookup() -> int:
        raise KeyError("nothing")

    if asynchronous:

        @admin.get("/users/{user_id}")
        async def user(user_id: int, request: Request) -> dict[str, Any]:
            return describe(admin, user_id, request)

    else:

        @admin.get("/users/{user_id}")
        def user(user_id: int, request: Request) -> dict[str, Any]:  # type: ignore[misc]
            return describe(admin, user_id, request)

    return admin


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async"])
def test_a_mounted_duoweb_app_keeps_its_middleware_hooks_and_errors(
    make_client: MakeClient, asynchronous: bool
) -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    def home() -> str:
        return "home"

    app.mount("/admin", admin_app(asynchronous, events))
    with make_client(app) as client:
        assert events == ["admin up"]
        response = client.get("/admin/users/3")
        assert response.json() == {"id": 3, "root": "/admin", "url": "/users/3"}
        assert response.headers["x-admin"] == "1"
        missing = client.get("/admin/nothing")  # the mounted app's own 404, through its middleware
        assert missing.status_code == 404
        assert missing.headers["x-admin"] == "1"
        assert client.get("/admin").json() == client.get("/admin/").json() == "admin root"
        assert client.get("/admin/lookup").text == "admin: no such thing"  # its own handler
        assert client.get("/administrator").status_code == 404  # not under the prefix
        assert client.get("/").json() == "home"
        assert client.get("/admin/openapi.json").json()["info"]["title"] == "Admin"
    assert events == ["admin up", "admin down"]


def test_a_wsgi_app_is_served_in_both_modes(make_client: MakeClient) -> None:
    app = App()
    app.mount("/legacy", wsgi_echo)
    with make_client(app) as client:
        response = client.get("/legacy/a/b?x=1")
        assert response.text == "/legacy|/a/b"
        assert response.headers["x-kind"] == "wsgi"
        assert client.get("/legacy").text == "/legacy|"


def test_an_asgi_app_is_served_in_both_modes_with_its_lifespan(make_client: MakeClient) -> None:
    live = ASGIEcho()
    app = App()
    app.mount("/live", live)
    with make_client(app) as client:
        assert live.events == ["lifespan.startup"]
        assert client.get("/live/feed").text == "/live|/live/feed|hello"
    assert live.events == ["lifespan.startup", "lifespan.shutdown"]


def test_a_starlette_app_is_served_in_both_modes(make_client: MakeClient) -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Any) -> JSONResponse:
        return JSONResponse({"path": request.url.path, "root": request.scope["root_path"]})

    app = App()
    app.mount("/live", Starlette(routes=[Route("/hello", hello)]))
    with make_client(app) as client:
        assert client.get("/live/hello").json() == {"path": "/live/hello", "root": "/live"}


def test_mounts_nest_and_follow_the_outer_root_path(mode: str) -> None:
    inner = App()

    @inner.get("/where")
    def where(request: Request) -> str:
        return request.root_path

    middle = App()
    middle.mount("/inner", inner)
    outer = App()
    outer.mount("/middle", middle)
    with TestClient(outer, mode, root_path="/site") as client:  # type: ignore[arg-type]
        assert client.get("/middle/inner/where").json() == "/site/middle/inner"


def test_a_mounted_apps_operations_may_join_the_parents_document() -> None:
    events: list[str] = []
    app = App()

    @app.get("/users/{user_id}")
    def user(user_id: int) -> int:
        return user_id

    app.mount("/admin", admin_app(False, events), include_in_schema=True)
    app.mount("/legacy", wsgi_echo, include_in_schema=True)  # not duoweb: nothing to merge
    paths = app.openapi()["paths"]
    assert paths["/admin/users/{user_id}"]["get"]["operationId"] == "admin.user"
    assert paths["/users/{user_id}"]["get"]["operationId"] == "user"
    assert not any(path.startswith("/legacy") for path in paths)


def test_mount_refuses_bad_prefixes_and_duplicates() -> None:
    from duoweb import RouteDefinitionError

    app = App()
    for prefix in ("", "admin", "/admin/"):
        with pytest.raises(RouteDefinitionError):
            app.mount(prefix, wsgi_echo)
    app.mount("/admin", wsgi_echo)
    with pytest.raises(RouteDefinitionError, match="two apps"):
        app.mount("/admin", wsgi_echo)
    with pytest.raises(RouteDefinitionError, match="itself"):
        app.mount("/self", app)
    with pytest.raises(TypeError, match="not a WSGI or ASGI"):
        app.mount("/nothing", 42)


def test_a_mounted_app_failing_to_start_is_a_503_under_wsgi() -> None:
    broken = App()

    @broken.on_startup
    def fail() -> None:
        raise RuntimeError("no database")

    app = App()
    app.mount("/broken", broken)
    client = TestClient(app)
    assert client.get("/broken/x").status_code == 503


def test_websockets_reach_a_mounted_duoweb_app() -> None:
    from duoweb import WebSocket

    chat = App()

    @chat.websocket("/room")
    async def room(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.path)

    app = App()
    app.mount("/chat", chat)
    with TestClient(app, mode="asgi") as client, client.websocket_connect("/chat/room") as session:
        assert session.receive_text() == "/room"


def test_an_app_without_mounts_keeps_the_plain_adapters() -> None:
    from duoweb.asgi import ASGIAdapter
    from duoweb.wsgi import WSGIAdapter

    app = App()
    assert type(app.wsgi) is WSGIAdapter
    assert type(app.asgi) is ASGIAdapter


async def failing_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app whose startup fails."""
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "no cache server"})


def test_a_mounted_asgi_app_failing_to_start_fails_the_parent_clearly() -> None:
    app = App()
    app.mount("/live", failing_lifespan)
    client = TestClient(app)  # WSGI: every request until a start succeeds is a 503
    assert client.get("/live/x").status_code == 503
    assert client.get("/other").status_code == 503
    with pytest.raises(RuntimeError, match="no cache server"), TestClient(app, "asgi"):
        pass


def test_an_asgi_app_without_lifespan_support_is_served(make_client: MakeClient) -> None:
    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")  # the spec's way to say: no lifespan here
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = App()
    app.mount("/bare", bare)
    with make_client(app) as client:
        assert client.get("/bare").status_code == 204
