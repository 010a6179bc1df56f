"""The ASGI floor: a bare ASGI 3 callable with hand dispatch and msgspec, no framework."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.contenders import _raw

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it grows past ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _header(scope: dict[str, Any], name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return b""


async def _answer(scope: dict[str, Any], receive: Receive) -> _raw.Answer:
    method = scope["method"]
    path = scope["path"]
    if method == "GET":
        return _raw.dispatch_get(path, scope["query_string"].decode("latin-1"))
    if path == "/items":
        if method != "POST":
            return _raw.NOT_ALLOWED
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > _raw.MAX_BODY:
            return _raw.problem(413, "Content Too Large", "body over 1 MiB")
        body = await _read_body(receive, _raw.MAX_BODY)
        if body is None:
            return _raw.problem(413, "Content Too Large", "body over 1 MiB")
        return _raw.create_item(_header(scope, b"content-type").decode("latin-1"), body)
    return _raw.NOT_ALLOWED if _raw.is_get_path(path) else _raw.NOT_FOUND


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
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    status, content_type, body = await _answer(scope, receive)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
