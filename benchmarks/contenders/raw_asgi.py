"""The ASGI floor: a bare ASGI 3 callable with hand dispatch and msgspec, no framework.

Fixed answers and header tuples are built once; each request still gets fresh messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.contenders import _raw

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_CONTENT_TYPE = {
    _raw.JSON: (b"content-type", _raw.JSON),
    _raw.PROBLEM: (b"content-type", _raw.PROBLEM),
    _raw.TEXT: (b"content-type", _raw.TEXT),
}
_JSON_TYPE = _CONTENT_TYPE[_raw.JSON]
_TEXT_TYPE = _CONTENT_TYPE[_raw.TEXT]
#: ``content-length`` headers of the short bodies, by length.
_LENGTHS = tuple((b"content-length", str(n).encode()) for n in range(4096))


def _length(body: bytes) -> tuple[bytes, bytes]:
    size = len(body)
    return _LENGTHS[size] if size < 4096 else (b"content-length", str(size).encode())


async def _read_body(receive: Receive, first: dict[str, Any]) -> bytes | None:
    """The rest of a body that came in several messages, or None once it is too large."""
    chunks = [first.get("body", b"")]
    size = len(chunks[0])
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _raw.MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _post(scope: dict[str, Any], receive: Receive) -> _raw.Answer:
    """``POST /items``: one pass over the (lower-case, per the ASGI spec) header names."""
    content_type = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length" and value.isdigit():
            digits = value.lstrip(b"0")
            if len(digits) > 7 or int(digits or b"0") > _raw.MAX_BODY:
                return _raw.TOO_LARGE
    message = await receive()
    if message["type"] != "http.request":
        body: bytes | None = b""
    elif message.get("more_body", False):
        body = await _read_body(receive, message)
    else:
        body = message.get("body", b"")
    if body is None or len(body) > _raw.MAX_BODY:
        return _raw.TOO_LARGE
    return _raw.create_item(content_type.decode("latin-1"), body)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def asgi(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Answer one request (or run the lifespan protocol)."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        return
    path = scope["path"]
    method = scope["method"]
    if method == "GET":
        if path == "/plaintext":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [_TEXT_TYPE, _LENGTHS[13]],
                }
            )
            await send({"type": "http.response.body", "body": _raw.HELLO_TEXT})
            return
        if path == "/json":
            body = _raw.hello()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [_JSON_TYPE, _length(body)],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if path == "/search":
            status, content_type, body = _raw.search(scope["query_string"].decode("latin-1"))
        elif path.startswith(_raw.ROUTE_PREFIX):
            status, content_type, body = _raw.route_param(path)
        else:
            status, content_type, body = _raw.other_method(path)
    elif method == "POST" and path == "/items":
        status, content_type, body = await _post(scope, receive)
    else:
        status, content_type, body = _raw.other_method(path)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_CONTENT_TYPE[content_type], _length(body)],
        }
    )
    await send({"type": "http.response.body", "body": body})
