"""The WSGI floor: a bare PEP 3333 callable with hand dispatch and msgspec, no framework.

Fixed answers and header tuples are built once; each request still gets a fresh header list
(PEP 3333 lets the server change the one it is given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from benchmarks.contenders import _raw

_STATUS = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    415: "415 Unsupported Media Type",
    422: "422 Unprocessable Content",
}
_CONTENT_TYPE = {
    _raw.JSON: ("Content-Type", "application/json"),
    _raw.PROBLEM: ("Content-Type", "application/problem+json"),
    _raw.TEXT: ("Content-Type", "text/plain; charset=utf-8"),
}
_JSON_TYPE = _CONTENT_TYPE[_raw.JSON]
_TEXT_TYPE = _CONTENT_TYPE[_raw.TEXT]
#: ``Content-Length`` headers of the short bodies, by length.
_LENGTHS = tuple(("Content-Length", str(n)) for n in range(4096))


def _length(body: bytes) -> tuple[str, str]:
    size = len(body)
    return _LENGTHS[size] if size < 4096 else ("Content-Length", str(size))


def _post(environ: dict[str, Any]) -> _raw.Answer:
    """``POST /items``: the body, read as far as its declared length."""
    declared = environ.get("CONTENT_LENGTH")
    try:
        length = int(declared) if declared else 0
    except ValueError:
        return _raw.BAD_LENGTH
    if length > _raw.MAX_BODY:
        return _raw.TOO_LARGE
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    return _raw.create_item(environ.get("CONTENT_TYPE", ""), body)


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer one request."""
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    if method == "GET":
        if path == "/plaintext":
            start_response("200 OK", [_TEXT_TYPE, _LENGTHS[13]])
            return [_raw.HELLO_TEXT]
        if path == "/json":
            body = _raw.hello()
            start_response("200 OK", [_JSON_TYPE, _length(body)])
            return [body]
        if path == "/search":
            status, content_type, body = _raw.search(environ.get("QUERY_STRING", ""))
        elif path.startswith(_raw.ROUTE_PREFIX):
            status, content_type, body = _raw.route_param(path)
        else:
            status, content_type, body = _raw.other_method(path)
    elif method == "POST" and path == "/items":
        status, content_type, body = _post(environ)
    else:
        status, content_type, body = _raw.other_method(path)
    start_response(_STATUS[status], [_CONTENT_TYPE[content_type], _length(body)])
    return [body]
