"""Flask: decorated view functions, dict returns, ``request.get_json()``, validation by hand."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from flask import Flask, request

from benchmarks.contenders._handwritten import MAX_BODY, item_errors, parse_limit, problem

app = Flask(__name__)
# Werkzeug answers 413 by itself once the body is over this many bytes.
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY

_ids = itertools.count(1)
_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/plaintext")
def plaintext() -> tuple[str, int, dict[str, str]]:
    """Answer with a fixed text."""
    return "Hello, World!", 200, _TEXT


@app.get("/json")
def hello() -> dict[str, Any]:
    """Answer with a fixed object."""
    return {"message": "Hello, World!"}


def _route(k: int) -> Callable[[int], dict[str, Any]]:
    def route_k(id: int) -> dict[str, Any]:
        return {"route": k, "id": id}

    return route_k


for _k in range(100):
    app.add_url_rule(f"/api/v1/r{_k}/<int:id>", endpoint=f"r{_k}", view_func=_route(_k))


@app.get("/search")
def search() -> Any:
    """Echo q and limit."""
    q = request.args.get("q")
    if q is None:
        return problem(422, "Unprocessable Content", "query parameter q is required"), 422
    limit = parse_limit(request.args.get("limit"))
    if limit is None:
        return problem(422, "Unprocessable Content", "limit must be an integer in 1..100"), 422
    return {"q": q, "limit": limit}


@app.post("/items")
def create_item() -> Any:
    """Validate the item and echo it with a new id."""
    data = request.get_json()  # 415 when not JSON, 400 when malformed, 413 when too large
    errors = item_errors(data)
    if errors:
        return problem(422, "Unprocessable Content", "; ".join(errors)), 422
    return {
        "id": next(_ids),
        "name": data["name"],
        "price": data["price"],
        "tags": data.get("tags", []),
    }, 201


wsgi = app
