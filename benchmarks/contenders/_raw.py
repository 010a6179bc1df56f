"""Protocol-free pieces shared by the two raw floors: dispatch by hand, JSON by msgspec.

The floors are the least work that still answers every reference route correctly, so that a
framework's ratio to them measures the framework, not JSON encoding or validation.
"""

from __future__ import annotations

import itertools
from typing import Annotated
from urllib.parse import parse_qsl

import msgspec

MAX_BODY = 1024 * 1024
ROUTE_PREFIX = "/api/v1/r"
ROUTE_COUNT = 100

JSON = b"application/json"
PROBLEM = b"application/problem+json"
TEXT = b"text/plain; charset=utf-8"


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


_encode = msgspec.json.Encoder().encode
_item_decoder = msgspec.json.Decoder(ItemIn)
_ids = itertools.count(1)

Answer = tuple[int, bytes, bytes]  # status, content type, body

PLAINTEXT: Answer = (200, TEXT, b"Hello, World!")
NOT_FOUND: Answer = (404, PROBLEM, b'{"title":"Not Found","status":404}')
NOT_ALLOWED: Answer = (405, PROBLEM, b'{"title":"Method Not Allowed","status":405}')


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def problem(status: int, title: str, detail: str) -> Answer:
    """An RFC 9457 problem answer."""
    doc = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return status, PROBLEM, _encode(doc)


def hello() -> Answer:
    """``GET /json``."""
    return 200, JSON, _encode({"message": "Hello, World!"})


def route_param(path: str) -> Answer:
    """``GET /api/v1/r{k}/{id}``: parse ``k`` and ``id`` by hand."""
    k, sep, ident = path[len(ROUTE_PREFIX) :].partition("/")
    if not sep or not _digits(k) or not _digits(ident) or (len(k) > 1 and k[0] == "0"):
        return NOT_FOUND
    route = int(k)
    if route >= ROUTE_COUNT:
        return NOT_FOUND
    return 200, JSON, _encode({"route": route, "id": int(ident)})


def search(query_string: str) -> Answer:
    """``GET /search?q=&limit=``."""
    params = dict(parse_qsl(query_string))
    q = params.get("q")
    if q is None:
        return problem(422, "Unprocessable Content", "query parameter q is required")
    raw_limit = params.get("limit")
    limit = 10
    if raw_limit is not None:
        limit = int(raw_limit) if _digits(raw_limit) else 0
        if not 1 <= limit <= 100:
            return problem(422, "Unprocessable Content", "limit must be an integer in 1..100")
    return 200, JSON, _encode({"q": q, "limit": limit})


def create_item(content_type: str, body: bytes) -> Answer:
    """``POST /items``: decode and validate the body in one msgspec call."""
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return problem(415, "Unsupported Media Type", "expected application/json")
    try:
        item = _item_decoder.decode(body)
    except msgspec.ValidationError as exc:
        return problem(422, "Unprocessable Content", str(exc))
    except msgspec.DecodeError as exc:
        return problem(400, "Bad Request", str(exc))
    out = ItemOut(next(_ids), item.name, item.price, item.tags)
    return 201, JSON, _encode(out)


def dispatch_get(path: str, query_string: str) -> Answer:
    """Every GET route, dispatched on the path by hand."""
    if path == "/plaintext":
        return PLAINTEXT
    if path == "/json":
        return hello()
    if path == "/search":
        return search(query_string)
    if path.startswith(ROUTE_PREFIX):
        return route_param(path)
    return NOT_FOUND


def is_get_path(path: str) -> bool:
    """True when ``path`` names a GET route (for 405 on other methods)."""
    return path in ("/plaintext", "/json", "/search") or route_param(path) is not NOT_FOUND
