"""The reference app with routes 4 and 5 hand-written against Request.

benchmarks/app.py declares the same routes' parameters and model in the signature; the
benchmarks compare the two to show what the declared form costs.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

import msgspec

from benchmarks.app import add_fixed_routes
from duoweb import App, HTTPError, Request, RequestValidationError
from duoweb.errors import ValidationErrorItem
from duoweb.models import from_msgspec, require_json

app = App()
add_fixed_routes(app)


@app.get("/search", inline=True)
def search(request: Request) -> dict[str, Any]:
    """Route 4: a required ``q`` and a bounded ``limit`` from the query string."""
    query = request.query
    errors: list[ValidationErrorItem] = []
    q = query.get("q")
    if q is None:
        errors.append(ValidationErrorItem(("query", "q"), "Field required", "missing"))
    raw_limit = query.get("limit")
    limit = 10
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            errors.append(ValidationErrorItem(("query", "limit"), "Not an integer", "int_parsing"))
        else:
            if not 1 <= limit <= 100:
                errors.append(
                    ValidationErrorItem(("query", "limit"), "Must be 1..100", "out_of_range")
                )
    if errors:
        raise RequestValidationError(errors)
    return {"q": q, "limit": limit}


class NewItem(msgspec.Struct):
    """Route 5's request body."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


_decode_item = msgspec.json.Decoder(NewItem).decode


_ids = itertools.count(1)


@app.post("/items", status_code=201, inline=True)
def create_item(request: Request) -> dict[str, Any]:
    """Route 5: a validated JSON body, answered with 201 and the stored item."""
    require_json(request.headers.get("content-type"))
    try:
        item = _decode_item(request.body)
    except msgspec.ValidationError as exc:
        raise from_msgspec(exc, ("body",)) from None
    except msgspec.DecodeError:
        raise HTTPError(400, "Malformed JSON body.") from None
    return {"id": next(_ids), "name": item.name, "price": item.price, "tags": item.tags}


wsgi = app.wsgi
asgi = app.asgi
