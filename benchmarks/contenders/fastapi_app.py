"""FastAPI: typed ``async def`` path operations, pydantic models, ``Query`` constraints."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from benchmarks.contenders._handwritten import MAX_BODY

app = FastAPI()
_ids = itertools.count(1)


class ItemIn(BaseModel):
    """Body of ``POST /items``."""

    name: Annotated[str, Field(min_length=1, max_length=64, strict=True)]
    price: Annotated[float, Field(gt=0, strict=True)]
    tags: list[Annotated[str, Field(strict=True)]] = []


class ItemOut(ItemIn):
    """Answer of ``POST /items``."""

    id: int


@app.exception_handler(RequestValidationError)
async def _malformed_is_400(request: Request, exc: RequestValidationError) -> Response:
    """Keep FastAPI's 422 for schema errors but answer 400 for a body that is not JSON."""
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return JSONResponse({"detail": "malformed JSON"}, status_code=400)
    return await request_validation_exception_handler(request, exc)


async def _json_body(
    content_type: Annotated[str, Header()] = "",
    content_length: Annotated[int, Header()] = 0,
) -> None:
    """Refuse non-JSON (415) and oversized (413) bodies before the model is validated."""
    if content_type.split(";")[0].strip() != "application/json":
        raise HTTPException(415, "expected application/json")
    if content_length > MAX_BODY:
        raise HTTPException(413, "body over 1 MiB")


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    """Answer with a fixed text."""
    return "Hello, World!"


@app.get("/json")
async def hello() -> dict[str, str]:
    """Answer with a fixed object."""
    return {"message": "Hello, World!"}


def _route(k: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    async def route_k(id: int) -> dict[str, int]:
        return {"route": k, "id": id}

    route_k.__name__ = f"route_{k}"
    return route_k


for _k in range(100):
    # The Starlette path convertor makes a non-integer id a 404 (no route), as in the contract.
    app.get(f"/api/v1/r{_k}/{{id:int}}")(_route(_k))


@app.get("/search")
async def search(q: str, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
    """Echo q and limit."""
    return {"q": q, "limit": limit}


@app.post("/items", status_code=201, dependencies=[Depends(_json_body)])
async def create_item(item: ItemIn) -> ItemOut:
    """Validate the item and echo it with a new id."""
    return ItemOut(id=next(_ids), name=item.name, price=item.price, tags=item.tags)


asgi = app
