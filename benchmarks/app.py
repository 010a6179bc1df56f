"""The reference app that benchmarks and end-to-end tests serve.

Serve it with ``gunicorn -k sync benchmarks.app:wsgi`` or ``hypercorn benchmarks.app:asgi``.
"""

from __future__ import annotations

import itertools
from typing import Annotated

import msgspec

from duoweb import App, PlainTextResponse, Query


def add_fixed_routes(app: App) -> None:
    """Routes 1-3, the same in both reference apps: plaintext, json and 100 numbered routes."""

    @app.get("/plaintext", inline=True)
    def plaintext() -> PlainTextResponse:
        """Route 1: a fixed text body."""
        return PlainTextResponse("Hello, World!")

    @app.get("/json", inline=True)
    def json() -> dict[str, str]:
        """Route 2: a fixed JSON object."""
        return {"message": "Hello, World!"}

    for k in range(100):
        _add_numbered_route(app, k)


def _add_numbered_route(app: App, k: int) -> None:
    @app.get(f"/api/v1/r{k}/{{id}}", name=f"r{k}", inline=True)
    def numbered(id: int) -> dict[str, int]:
        return {"route": k, "id": id}


app = App()
add_fixed_routes(app)


class SearchResult(msgspec.Struct):
    """Route 4's answer."""

    q: str
    limit: int


@app.get("/search", inline=True)
def search(q: str, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> SearchResult:
    """Route 4: a required ``q`` and a bounded ``limit`` from the query string."""
    return SearchResult(q, limit)


class NewItem(msgspec.Struct):
    """Route 5's request body (a JSON number out of float range is refused too)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


class Item(msgspec.Struct):
    """Route 5's answer: the stored item."""

    id: int
    name: str
    price: float
    tags: list[str]


_ids = itertools.count(1)


@app.post("/items", status_code=201, inline=True)
def create_item(item: NewItem) -> Item:
    """Route 5: a validated JSON body, answered with 201 and the stored item."""
    return Item(next(_ids), item.name, item.price, item.tags)


wsgi = app.wsgi
asgi = app.asgi
