"""Protocol-free pieces shared by the two raw floors: dispatch by hand, JSON by msgspec.

The floors are the fastest hand-written Python that still answers every reference route
correctly (the same validation, JSON and errors as every other contender), so that a
framework's ratio to them measures the framework, not JSON encoding or validation. Everything
that can be built once is: the encoder and decoder, the route numbers and limits as lookup
tables, the problem documents. The query string is split by hand and percent-decoding runs
only for a value that has an escape in it.
"""

from __future__ import annotations

import itertools
from typing import Annotated
from urllib.parse import unquote_to_bytes

import msgspec

MAX_BODY = 1024 * 1024
ROUTE_PREFIX = "/api/v1/r"
PREFIX_LENGTH = len(ROUTE_PREFIX)

#: Content types of the answers; each floor maps them to its own header form.
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


encode = msgspec.json.Encoder().encode
_decode_item = msgspec.json.Decoder(ItemIn).decode
_ids = itertools.count(1)

#: ``/api/v1/r{k}/``: the canonical spelling of each route number (no sign, no leading 0).
ROUTE_NUMBERS = {str(k): k for k in range(100)}
#: ``limit=``: the canonical spelling of each allowed value; others take the slow check.
LIMITS = {str(n): n for n in range(1, 101)}

Answer = tuple[int, bytes, bytes]  # status, content type, body

HELLO_TEXT = b"Hello, World!"
NOT_FOUND: Answer = (404, PROBLEM, b'{"title":"Not Found","status":404}')
NOT_ALLOWED: Answer = (405, PROBLEM, b'{"title":"Method Not Allowed","status":405}')


def problem(status: int, title: str, detail: str) -> Answer:
    """An RFC 9457 problem answer."""
    doc = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return status, PROBLEM, encode(doc)


MISSING_Q = problem(422, "Unprocessable Content", "query parameter q is required")
BAD_LIMIT = problem(422, "Unprocessable Content", "limit must be an integer in 1..100")
NOT_JSON = problem(415, "Unsupported Media Type", "expected application/json")
TOO_LARGE = problem(413, "Content Too Large", "body over 1 MiB")
BAD_LENGTH = problem(400, "Bad Request", "bad Content-Length")


def hello() -> bytes:
    """``GET /json``: encoded per request, as every contender does."""
    return encode({"message": "Hello, World!"})


def route_param(path: str) -> Answer:
    """``GET /api/v1/r{k}/{id}`` (``path`` starts with the prefix): parse ``k`` and ``id``."""
    k, sep, ident = path[PREFIX_LENGTH:].partition("/")
    route = ROUTE_NUMBERS.get(k)
    if route is None or not sep or not _integer(ident):
        return NOT_FOUND
    try:
        number = int(ident)
    except ValueError:  # more digits than int() converts
        return NOT_FOUND
    return 200, JSON, encode({"route": route, "id": number})


def _integer(text: str) -> bool:
    """``text`` is a decimal integer in ASCII digits, with an optional minus sign."""
    if text.isdigit():
        return text.isascii()
    return text[:1] == "-" and text[1:].isdigit() and text.isascii()


def _decoded(raw: str) -> str:
    """A query value (latin-1 text of the raw bytes) as UTF-8 text, escapes and ``+`` undone."""
    if "%" in raw or "+" in raw:
        return unquote_to_bytes(raw.replace("+", " ").encode("latin-1")).decode("utf-8", "replace")
    if raw.isascii():
        return raw
    return raw.encode("latin-1").decode("utf-8", "replace")


def _limit(raw: str) -> int:
    """``limit`` in 1..100, or 0 when it is not an integer in that range."""
    if not raw.isdigit() or not raw.isascii():
        return 0
    try:
        value = int(raw)
    except ValueError:  # more digits than int() converts
        return 0
    return value if 1 <= value <= 100 else 0


def search(query_string: str) -> Answer:
    """``GET /search?q=&limit=``: the query string (latin-1 text) split by hand."""
    q: str | None = None
    raw_limit: str | None = None
    for pair in query_string.split("&"):
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = _decoded(name)
        if name == "q":
            if q is None:  # the first one counts
                q = value
        elif name == "limit" and raw_limit is None:
            raw_limit = value
    if q is None:
        return MISSING_Q
    limit = 10
    if raw_limit is not None:
        limit = LIMITS.get(raw_limit) or _limit(_decoded(raw_limit))
        if not limit:
            return BAD_LIMIT
    return 200, JSON, encode({"q": _decoded(q), "limit": limit})


def create_item(content_type: str, body: bytes) -> Answer:
    """``POST /items``: decode and validate the body in one msgspec call."""
    if (
        content_type != "application/json"
        and content_type.partition(";")[0].strip().lower() != "application/json"
    ):
        return NOT_JSON
    try:
        item = _decode_item(body)
    except msgspec.ValidationError as exc:
        return problem(422, "Unprocessable Content", str(exc))
    except msgspec.DecodeError as exc:
        return problem(400, "Bad Request", str(exc))
    return 201, JSON, encode(ItemOut(next(_ids), item.name, item.price, item.tags))


def other_method(path: str) -> Answer:
    """A method the route at ``path`` does not take (405), or no such route (404).

    Called only after the request missed its route, so ``/items`` here was not a POST.
    """
    if path in ("/plaintext", "/json", "/search", "/items"):
        return NOT_ALLOWED
    if path.startswith(ROUTE_PREFIX) and route_param(path) is not NOT_FOUND:
        return NOT_ALLOWED
    return NOT_FOUND
