"""The reference routes: the requests every contender is timed on and what each must answer.

Everything the harness sends lives here, so the in-process driver, the served runner and the
conformance tests all send byte-for-byte the same requests and apply the same checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Route kinds in report order, with the label used in tables.
ROUTES: dict[str, str] = {
    "plaintext": "GET /plaintext",
    "json": "GET /json",
    "param": "GET /api/v1/r87/{id}",
    "query": "GET /search?q=&limit=",
    "body": "POST /items",
}

ITEM_BODY = b'{"name":"widget","price":9.5,"tags":["a","b"]}'
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Probe:
    """One HTTP request and the answer a conforming app gives to it."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    status: int = 200
    media_type: str | None = "application/json"
    check: Callable[[bytes], str | None] | None = None
    extra_headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def target(self) -> str:
        """Path plus query string, as sent on the request line."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def headers(self) -> list[tuple[str, str]]:
        """Request headers (lower-case names) a client would send, Host excluded."""
        out: list[tuple[str, str]] = []
        if self.content_type is not None:
            out.append(("content-type", self.content_type))
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            out.append(("content-length", str(len(self.body))))
        out.extend(self.extra_headers)
        return out


def _json_equals(expected: Any) -> Callable[[bytes], str | None]:
    def check(body: bytes) -> str | None:
        try:
            got = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:80]!r}"
        return None if got == expected else f"expected {expected!r}, got {got!r}"

    return check


def _created_item(body: bytes) -> str | None:
    try:
        got = json.loads(body)
    except ValueError:
        return f"body is not JSON: {body[:80]!r}"
    if not isinstance(got, dict):
        return f"expected an object, got {got!r}"
    ident = got.pop("id", None)
    if not isinstance(ident, int) or isinstance(ident, bool):
        return f"expected an integer id, got {ident!r}"
    want = {"name": "widget", "price": 9.5, "tags": ["a", "b"]}
    return None if got == want else f"expected {want!r} plus id, got {got!r}"


def _exact(expected: bytes) -> Callable[[bytes], str | None]:
    def check(body: bytes) -> str | None:
        return None if body == expected else f"expected {expected!r}, got {body[:80]!r}"

    return check


#: The request timed for each route kind, and how its answer is verified before timing.
BENCH: dict[str, Probe] = {
    "plaintext": Probe(
        "GET",
        "/plaintext",
        media_type="text/plain; charset=utf-8",
        check=_exact(b"Hello, World!"),
    ),
    "json": Probe("GET", "/json", check=_json_equals({"message": "Hello, World!"})),
    "param": Probe("GET", "/api/v1/r87/12345", check=_json_equals({"route": 87, "id": 12345})),
    "query": Probe(
        "GET",
        "/search",
        query="q=hello&limit=20&utm_source=bench",
        check=_json_equals({"q": "hello", "limit": 20}),
    ),
    "body": Probe(
        "POST",
        "/items",
        body=ITEM_BODY,
        content_type="application/json",
        status=201,
        check=_created_item,
    ),
}


_DROP = object()


def _item(**fields: Any) -> bytes:
    base: dict[str, Any] = {"name": "widget", "price": 9.5}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not _DROP}).encode()


_JSON = "application/json"

#: Edge cases of the contract, checked once per contender by the conformance tests (not timed).
CONFORMANCE: dict[str, Probe] = {
    "r0": Probe("GET", "/api/v1/r0/7", check=_json_equals({"route": 0, "id": 7})),
    "r99": Probe("GET", "/api/v1/r99/0", check=_json_equals({"route": 99, "id": 0})),
    "param not int": Probe("GET", "/api/v1/r5/abc", status=404, media_type=None),
    "no such route": Probe("GET", "/api/v1/r100/1", status=404, media_type=None),
    "default limit": Probe("GET", "/search", "q=x", check=_json_equals({"q": "x", "limit": 10})),
    "percent-decoded q": Probe(
        "GET", "/search", "q=a%20b&limit=1", check=_json_equals({"q": "a b", "limit": 1})
    ),
    "missing q": Probe("GET", "/search", "limit=5", status=422, media_type=None),
    "limit zero": Probe("GET", "/search", "q=x&limit=0", status=422, media_type=None),
    "limit 101": Probe("GET", "/search", "q=x&limit=101", status=422, media_type=None),
    "limit not int": Probe("GET", "/search", "q=x&limit=ten", status=422, media_type=None),
    "item without tags": Probe(
        "POST",
        "/items",
        body=_item(tags=_DROP),
        content_type=_JSON,
        status=201,
        check=lambda b: None if json.loads(b).get("tags") == [] else f"tags not []: {b!r}",
    ),
    "item not json type": Probe(
        "POST", "/items", body=ITEM_BODY, content_type="text/plain", status=415, media_type=None
    ),
    "item malformed": Probe(
        "POST", "/items", body=b'{"name": "w",', content_type=_JSON, status=400, media_type=None
    ),
    "item price string": Probe(
        "POST", "/items", body=_item(price="5"), content_type=_JSON, status=422, media_type=None
    ),
    "item price bool": Probe(
        "POST", "/items", body=_item(price=True), content_type=_JSON, status=422, media_type=None
    ),
    "item price zero": Probe(
        "POST", "/items", body=_item(price=0), content_type=_JSON, status=422, media_type=None
    ),
    "item name empty": Probe(
        "POST", "/items", body=_item(name=""), content_type=_JSON, status=422, media_type=None
    ),
    "item name 65": Probe(
        "POST", "/items", body=_item(name="x" * 65), content_type=_JSON, status=422, media_type=None
    ),
    "item tags not str": Probe(
        "POST", "/items", body=_item(tags=[1]), content_type=_JSON, status=422, media_type=None
    ),
    "item not object": Probe(
        "POST", "/items", body=b"[1, 2]", content_type=_JSON, status=422, media_type=None
    ),
    "item too large": Probe(
        "POST",
        "/items",
        body=_item(tags=["x" * 1000] * 1100),
        content_type=_JSON,
        status=413,
        media_type=None,
    ),
}


def verify(probe: Probe, status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
    """Return why a response does not satisfy ``probe``, or None when it does."""
    if status != probe.status:
        return f"status {status}, expected {probe.status} (body {body[:120]!r})"
    if probe.media_type is not None:
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
        want = probe.media_type
        got = ctype.lower().replace(" ", "") if ";" in want else ctype.split(";")[0].strip().lower()
        if got != want.replace(" ", ""):
            return f"content-type {ctype!r}, expected {probe.media_type}"
    if probe.check is not None:
        return probe.check(body)
    return None
