"""Bottle: routes on a ``Bottle()`` instance, dict returns, ``request.json``, validation by hand."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from bottle import BaseRequest, Bottle, HTTPError, request, response

from benchmarks.contenders._handwritten import MAX_BODY, item_errors, parse_limit, problem

# request.json answers 413 itself for bodies over this many bytes.
BaseRequest.MEMFILE_MAX = MAX_BODY

app = Bottle()
_ids = itertools.count(1)


@app.get("/plaintext")
def plaintext() -> str:
    """Answer with a fixed text."""
    response.content_type = "text/plain; charset=utf-8"
    return "Hello, World!"


@app.get("/json")
def hello() -> dict[str, Any]:
    """Answer with a fixed object."""
    return {"message": "Hello, World!"}


def _route(k: int) -> Callable[[int], dict[str, Any]]:
    def route_k(id: int) -> dict[str, Any]:
        return {"route": k, "id": id}

    return route_k


for _k in range(100):
    app.route(f"/api/v1/r{_k}/<id:int>", "GET", _route(_k), name=f"r{_k}")


def _unprocessable(detail: str) -> dict[str, Any]:
    response.status = 422
    return problem(422, "Unprocessable Content", detail)


@app.get("/search")
def search() -> dict[str, Any]:
    """Echo q and limit."""
    q = request.query.getunicode("q")
    if q is None:
        return _unprocessable("query parameter q is required")
    limit = parse_limit(request.query.get("limit"))
    if limit is None:
        return _unprocessable("limit must be an integer in 1..100")
    return {"q": q, "limit": limit}


@app.post("/items")
def create_item() -> dict[str, Any]:
    """Validate the item and echo it with a new id."""
    data = request.json  # None when not JSON, 400 when malformed, 413 when too large
    if data is None and request.content_type.split(";")[0].strip() != "application/json":
        raise HTTPError(415, "expected application/json")
    errors = item_errors(data)
    if errors:
        return _unprocessable("; ".join(errors))
    response.status = 201
    return {
        "id": next(_ids),
        "name": data["name"],
        "price": data["price"],
        "tags": data.get("tags", []),
    }


wsgi = app
