"""The reference app's routes and what every server must answer for them, byte for byte.

One list, checked against every server configuration and through nginx, so a difference
between servers shows up as a named case, not as a flaky test somewhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx

PROBLEM = "application/problem+json"
JSON = "application/json"
ALLOW = (("allow", "GET, HEAD, OPTIONS"),)


class Case(NamedTuple):
    """One request and the response every server must give for it."""

    method: str
    path: str
    body: bytes | None
    content_type: str | None
    status: int
    #: The expected Content-Type, or None when the response must not have one.
    expected_type: str | None
    #: The exact body, or None to skip comparing it.
    expected_body: bytes | None = None
    #: Headers that must be present with exactly these values.
    expected_headers: tuple[tuple[str, str], ...] = ()
    #: Keys the JSON body must contain with these values (for bodies that vary, like ids).
    json_subset: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        """A readable test id."""
        return f"{self.method} {self.path} {self.status}"


ITEM = b'{"name":"a","price":2}'

CASES: list[Case] = [
    Case("GET", "/plaintext", None, None, 200, "text/plain; charset=utf-8", b"Hello, World!"),
    Case("GET", "/json", None, None, 200, JSON, b'{"message":"Hello, World!"}'),
    Case("HEAD", "/json", None, None, 200, JSON, b""),
    Case("OPTIONS", "/json", None, None, 204, None, b"", ALLOW),
    Case("GET", "/api/v1/r0/1", None, None, 200, JSON, b'{"route":0,"id":1}'),
    Case("GET", "/api/v1/r87/42", None, None, 200, JSON, b'{"route":87,"id":42}'),
    Case("GET", "/api/v1/r99/-7", None, None, 200, JSON, b'{"route":99,"id":-7}'),
    Case("GET", "/api/v1/r87/x", None, None, 404, PROBLEM),
    Case("GET", "/search?q=hi&limit=3", None, None, 200, JSON, b'{"q":"hi","limit":3}'),
    Case("GET", "/search?q=caf%C3%A9", None, None, 200, JSON, b'{"q":"caf\xc3\xa9","limit":10}'),
    Case("GET", "/search?limit=3", None, None, 422, PROBLEM),
    Case("GET", "/search?q=a&limit=1000", None, None, 422, PROBLEM),
    Case(
        "POST",
        "/items",
        ITEM,
        JSON,
        201,
        JSON,
        json_subset=(("name", "a"), ("price", 2.0), ("tags", [])),
    ),
    Case("POST", "/items", b'{"name":"a","price":"2"}', JSON, 422, PROBLEM),
    Case("POST", "/items", b"{oops", JSON, 400, PROBLEM),
    Case("POST", "/items", b"{}", "text/plain", 415, PROBLEM),
    Case("PUT", "/json", None, None, 405, PROBLEM, None, ALLOW),
    Case("GET", "/nowhere", None, None, 404, PROBLEM),
]


def new_client(**options: Any) -> httpx.Client:
    """A client that opens a new connection per request (some servers never keep alive)."""
    options.setdefault("timeout", 10)
    options.setdefault("limits", httpx.Limits(max_keepalive_connections=0))
    return httpx.Client(**options)


def mismatches(client: httpx.Client, base_url: str, case: Case) -> Iterator[str]:
    """What differs between the server's answer to ``case`` and the expected one."""
    headers = {"content-type": case.content_type} if case.content_type else {}
    try:
        response = client.request(
            case.method, base_url + case.path, content=case.body, headers=headers
        )
    except httpx.HTTPError as exc:
        yield f"{case.id}: request failed: {exc!r}"
        return
    if response.status_code != case.status:
        yield f"{case.id}: status {response.status_code}, body {response.content[:200]!r}"
        return
    got_type = response.headers.get("content-type")
    if got_type != case.expected_type:
        yield f"{case.id}: content-type {got_type!r}, expected {case.expected_type!r}"
    if case.expected_body is not None and response.content != case.expected_body:
        yield f"{case.id}: body {response.content[:200]!r}, expected {case.expected_body!r}"
    for name, value in case.expected_headers:
        if response.headers.get(name) != value:
            yield f"{case.id}: header {name}: {response.headers.get(name)!r}, expected {value!r}"
    if case.json_subset:
        document = response.json()
        for key, value in case.json_subset:
            if document.get(key) != value:
                yield f"{case.id}: JSON {key}={document.get(key)!r}, expected {value!r}"


def check_all(client: httpx.Client, base_url: str) -> list[str]:
    """Every mismatch over :data:`CASES` (empty when the server answers them all right)."""
    return [problem for case in CASES for problem in mismatches(client, base_url, case)]
