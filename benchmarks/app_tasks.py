"""The reference app with an unused ``BackgroundTasks`` parameter on every route.

Counted against ``benchmarks.app`` (``python -m benchmarks.instructions --contenders
duoweb-wsgi,duoweb-tasks-wsgi``) it shows what taking the parameter costs a request that adds
no task; docs/lifespan.md quotes the table.
"""

from __future__ import annotations

import itertools
from typing import Annotated

from benchmarks.app import Item, NewItem, SearchResult
from duoweb import App, BackgroundTasks, PlainTextResponse, Query

app = App()


@app.get("/plaintext", inline=True)
def plaintext(tasks: BackgroundTasks) -> PlainTextResponse:
    """Route 1, with a BackgroundTasks it leaves empty."""
    return PlainTextResponse("Hello, World!")


@app.get("/json", inline=True)
def json(tasks: BackgroundTasks) -> dict[str, str]:
    """Route 2, with a BackgroundTasks it leaves empty."""
    return {"message": "Hello, World!"}


def _add_numbered_route(k: int) -> None:
    @app.get(f"/api/v1/r{k}/{{id}}", name=f"r{k}", inline=True)
    def numbered(id: int, tasks: BackgroundTasks) -> dict[str, int]:
        return {"route": k, "id": id}


for _k in range(100):
    _add_numbered_route(_k)


@app.get("/search", inline=True)
def search(
    tasks: BackgroundTasks, q: str, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> SearchResult:
    """Route 4, with a BackgroundTasks it leaves empty."""
    return SearchResult(q, limit)


_ids = itertools.count(1)


@app.post("/items", status_code=201, inline=True)
def create_item(item: NewItem, tasks: BackgroundTasks) -> Item:
    """Route 5, with a BackgroundTasks it leaves empty."""
    return Item(next(_ids), item.name, item.price, item.tags)


wsgi = app.wsgi
asgi = app.asgi
