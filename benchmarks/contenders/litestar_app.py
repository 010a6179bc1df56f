"""Litestar: ``async def`` handlers, msgspec ``Struct`` bodies, ``Parameter`` constraints."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from benchmarks.contenders._handwritten import MAX_BODY

_ids = itertools.count(1)


class ItemIn(msgspec.Struct):
    """Body of ``POST /items``."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


class ItemOut(msgspec.Struct):
    """Answer of ``POST /items``."""

    id: int
    name: str
    price: float
    tags: list[str]


def _validation_is_422(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar answers 400 for invalid input; the contract says 422 (400 stays for bad JSON)."""
    status = 400 if "malformed" in str(exc.detail).lower() else 422
    return Response({"detail": exc.detail, "extra": exc.extra}, status_code=status)


async def _json_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: refuse a body that is not declared as JSON (415)."""
    content_type = connection.headers.get("content-type", "")
    if content_type.split(";")[0].strip() != "application/json":
        raise HTTPException(status_code=415, detail="expected application/json")


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    """Answer with a fixed text."""
    return "Hello, World!"


@get("/json")
async def hello() -> dict[str, str]:
    """Answer with a fixed object."""
    return {"message": "Hello, World!"}


def _route(k: int) -> Any:
    async def route_k(id: FromPath[int]) -> dict[str, int]:
        return {"route": k, "id": id}

    route_k.__name__ = f"route_{k}"
    return get(f"/api/v1/r{k}/{{id:int}}", name=f"r{k}")(route_k)


@get("/search")
async def search(
    q: FromQuery[str], limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10
) -> dict[str, Any]:
    """Echo q and limit."""
    return {"q": q, "limit": limit}


@post("/items", guards=[_json_only])
async def create_item(data: JSONBody[ItemIn]) -> ItemOut:
    """Validate the item and echo it with a new id (201 is the POST default)."""
    return ItemOut(id=next(_ids), name=data.name, price=data.price, tags=data.tags)


asgi = Litestar(
    route_handlers=[plaintext, hello, *(_route(k) for k in range(100)), search, create_item],
    exception_handlers={ValidationException: _validation_is_422},
    request_max_body_size=MAX_BODY,
)
