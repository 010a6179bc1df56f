"""Registration keeps only the factory locals that annotations use (issue 20, item 13)."""

from __future__ import annotations

import gc
import weakref
from typing import Annotated, Any

import msgspec
import pytest

from duoweb import App, Depends, Header, WebSocket
from duoweb.annotation_scope import annotation_scope
from duoweb.testing import TestClient
from tests.conftest import MakeClient


class BigResource:
    """Stands for a factory local nobody's annotations name (a connection, a big config)."""


def make_app(handler_kind: str) -> tuple[App, weakref.ref[BigResource]]:
    resource = BigResource()

    class Item(msgspec.Struct):  # a factory-local model the annotations name
        name: str

    def token(x_token: Annotated[str, Header()] = "") -> Token:
        return Token(x_token)

    class Token(msgspec.Struct):
        value: str

    app = App()
    if handler_kind == "def":

        @app.post("/items")
        def create(item: Item, auth: Annotated[Token, Depends(token)]) -> dict[str, Any]:
            return {"name": item.name, "token": auth.value}

    else:

        @app.post("/items")
        async def create_async(item: Item, auth: Token = Depends(token)) -> dict[str, Any]:  # type: ignore[assignment]  # noqa: B008
            return {"name": item.name, "token": auth.value}

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()

    return app, weakref.ref(resource)


@pytest.mark.parametrize("handler_kind", ["def", "async def"])
def test_factory_locals_the_annotations_do_not_name_are_freed(
    make_client: MakeClient, handler_kind: str
) -> None:
    app, resource = make_app(handler_kind)
    gc.collect()
    assert resource() is None  # before: kept alive by the registered f_locals
    with make_client(app) as client:
        response = client.post("/items", json={"name": "pen"}, headers={"x-token": "t"})
    assert response.json() == {"name": "pen", "token": "t"}


def test_the_scope_holds_the_names_annotations_and_providers_use() -> None:
    class Model:
        pass

    class Other:
        pass

    def provider(m: Model) -> int:
        return 0

    def handler(a: list[Model], b: Annotated[int, Depends(provider)], c: str = "x") -> None:
        return None

    unused = object()
    scope = annotation_scope(
        handler,
        {
            "Model": Model,
            "Other": Other,
            "unused": unused,
            "provider": provider,
            "Annotated": Annotated,
            "Depends": Depends,
            "int": int,
            "list": list,
        },
    )
    assert scope is not None
    assert set(scope) == {"Model", "provider", "Annotated", "Depends", "int", "list"}
    assert annotation_scope(handler, None) is None
    assert annotation_scope(handler, globals()) is None  # module level: globals suffice


def test_quoted_names_inside_annotations_are_kept() -> None:
    class Inner:
        pass

    def handler(x: list["Inner"]) -> None:  # noqa: UP037
        return None

    assert annotation_scope(handler, {"Inner": Inner, "junk": 1}) == {"Inner": Inner}


def test_a_websocket_route_from_a_factory_still_connects() -> None:
    app, _ = make_app("def")
    with TestClient(app, "asgi") as client, client.websocket_connect("/ws"):
        pass
