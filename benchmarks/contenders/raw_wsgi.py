"""The WSGI floor: a bare PEP 3333 callable with hand dispatch and msgspec, no framework."""

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


def _answer(environ: dict[str, Any]) -> _raw.Answer:
    method = environ["REQUEST_METHOD"]
    path = environ["PATH_INFO"]
    if method == "GET":
        return _raw.dispatch_get(path, environ.get("QUERY_STRING", ""))
    if path == "/items":
        if method != "POST":
            return _raw.NOT_ALLOWED
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _raw.problem(400, "Bad Request", "bad Content-Length")
        if length > _raw.MAX_BODY:
            return _raw.problem(413, "Content Too Large", "body over 1 MiB")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        return _raw.create_item(environ.get("CONTENT_TYPE", ""), body)
    return _raw.NOT_ALLOWED if _raw.is_get_path(path) else _raw.NOT_FOUND


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer one request."""
    status, content_type, body = _answer(environ)
    start_response(
        _STATUS[status],
        [("Content-Type", content_type.decode()), ("Content-Length", str(len(body)))],
    )
    return [body]
