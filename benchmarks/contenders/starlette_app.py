"""Starlette: a route table of ``async def`` endpoints, validation by hand."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from benchmarks.contenders._handwritten import MAX_BODY, item_errors, parse_limit, problem

_ids = itertools.count(1)


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        problem(status, title, detail), status_code=status, media_type="application/problem+json"
    )


async def plaintext(request: Request) -> Response:
    """Answer with a fixed text."""
    return PlainTextResponse("Hello, World!")


async def hello(request: Request) -> Response:
    """Answer with a fixed object."""
    return JSONResponse({"message": "Hello, World!"})


def _route(k: int) -> Callable[[Request], Awaitable[Response]]:
    async def route_k(request: Request) -> Response:
        return JSONResponse({"route": k, "id": request.path_params["id"]})

    return route_k


async def search(request: Request) -> Response:
    """Echo q and limit."""
    q = request.query_params.get("q")
    if q is None:
        return _problem(422, "Unprocessable Content", "query parameter q is required")
    limit = parse_limit(request.query_params.get("limit"))
    if limit is None:
        return _problem(422, "Unprocessable Content", "limit must be an integer in 1..100")
    return JSONResponse({"q": q, "limit": limit})


async def create_item(request: Request) -> Response:
    """Validate the item and echo it with a new id."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _problem(415, "Unsupported Media Type", "expected application/json")
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY:
        return _problem(413, "Content Too Large", "body over 1 MiB")
    try:
        data: Any = json.loads(await request.body())
    except ValueError:
        return _problem(400, "Bad Request", "malformed JSON")
    errors = item_errors(data)
    if errors:
        return _problem(422, "Unprocessable Content", "; ".join(errors))
    item = {
        "id": next(_ids),
        "name": data["name"],
        "price": data["price"],
        "tags": data.get("tags", []),
    }
    return JSONResponse(item, status_code=201)


routes = [
    Route("/plaintext", plaintext),
    Route("/json", hello),
    *(Route(f"/api/v1/r{k}/{{id:int}}", _route(k), name=f"r{k}") for k in range(100)),
    Route("/search", search),
    Route("/items", create_item, methods=["POST"]),
]

asgi = Starlette(routes=routes)
