"""BlackSheep: ``async def`` handlers on the app router, typed route and query binding."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Annotated

from blacksheep import Application, Request, Response, json, text
from pydantic import BaseModel, Field, ValidationError

from benchmarks.contenders._handwritten import MAX_BODY, parse_limit, problem

app = Application()
get = app.router.get
_ids = itertools.count(1)


class ItemIn(BaseModel):
    """Body of ``POST /items``."""

    name: Annotated[str, Field(min_length=1, max_length=64, strict=True)]
    price: Annotated[float, Field(gt=0, strict=True)]
    tags: list[Annotated[str, Field(strict=True)]] = []


def _problem(status: int, title: str, detail: str) -> Response:
    return json(problem(status, title, detail), status=status)


@get("/plaintext")
async def plaintext() -> Response:
    """Answer with a fixed text."""
    return text("Hello, World!")


@get("/json")
async def hello() -> Response:
    """Answer with a fixed object."""
    return json({"message": "Hello, World!"})


def _route(k: int) -> Callable[[int], Awaitable[Response]]:
    async def route_k(id: int) -> Response:
        return json({"route": k, "id": id})

    return route_k


for _k in range(100):
    app.router.add_get(f"/api/v1/r{_k}/{{int:id}}", _route(_k))


@get("/search")
async def search(q: str | None = None, limit: str | None = None) -> Response:
    """Echo q and limit."""
    if q is None:
        return _problem(422, "Unprocessable Content", "query parameter q is required")
    checked = parse_limit(limit)
    if checked is None:
        return _problem(422, "Unprocessable Content", "limit must be an integer in 1..100")
    return json({"q": q, "limit": checked})


@app.router.post("/items")
async def create_item(request: Request) -> Response:
    """Validate the item and echo it with a new id."""
    if not request.declares_json():
        return _problem(415, "Unsupported Media Type", "expected application/json")
    length = request.get_first_header(b"content-length") or b"0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return _problem(413, "Content Too Large", "body over 1 MiB")
    data = await request.json()  # malformed JSON -> 400 BadRequestFormat
    try:
        item = ItemIn.model_validate(data)
    except ValidationError as exc:
        return _problem(422, "Unprocessable Content", str(exc))
    return json({"id": next(_ids), **item.model_dump()}, status=201)


asgi = app
