"""A throwaway app for fault tests under real servers: routes that fail, stall and stream.

Handlers append one line per event to the file named by ``DUOWEB_ROBUST_LOG`` (if set), so a
test can see what ran in which worker: ``<event> <pid> <detail>``. The app extends the
every-parameter-kind app of ``kinds_app`` and has the reference app's ``/plaintext`` and
``/json``, to check that other requests keep being served.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator

from duoweb import FileResponse, PlainTextResponse, Request, Response, StreamingResponse
from tests.robustness.kinds_app import build_app

app = build_app(max_body_size=64 * 1024)


def record(event: str, detail: object = "") -> None:
    """Append ``event pid detail`` to the event log (one small O_APPEND write: atomic)."""
    path = os.environ.get("DUOWEB_ROBUST_LOG")
    if not path:
        return
    line = f"{event} {os.getpid()} {detail}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@app.get("/plaintext", inline=True)
def plaintext() -> PlainTextResponse:
    """A fixed text body."""
    return PlainTextResponse("Hello, World!")


@app.get("/json", inline=True)
def json() -> dict[str, str]:
    """A fixed JSON object."""
    return {"message": "Hello, World!"}


@app.get("/pid", inline=True)
def pid() -> dict[str, int]:
    """The worker's process id."""
    return {"pid": os.getpid()}


@app.get("/raise")
def fail() -> None:
    """An unhandled exception with a secret in its message: must be a 500 without it."""
    raise RuntimeError("secret-internal-detail")


@app.get("/sleep")
def sleep(seconds: float = 1.0) -> dict[str, float]:
    """A ``def`` handler that blocks its worker (sync) or a pool thread (ASGI)."""
    record("sleep-start", seconds)
    time.sleep(seconds)
    record("sleep-end", seconds)
    return {"slept": seconds}


@app.get("/async-sleep")
async def async_sleep(seconds: float = 1.0) -> dict[str, float]:
    """An ``async def`` handler that waits without blocking the event loop."""
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@app.post("/record", inline=True)
def record_body(request: Request) -> dict[str, int]:
    """Log the length of every body that reaches a handler (a truncated one never must)."""
    record("body", len(request.body))
    return {"length": len(request.body)}


@app.get("/stream")
def stream(chunks: int = 50, delay: float = 0.05) -> StreamingResponse:
    """A sync generator body whose cleanup is logged; slow enough to disconnect mid-way."""

    def body() -> Iterator[bytes]:
        record("stream-start", chunks)
        try:
            for index in range(chunks):
                yield f"chunk {index}\n".encode() + b"." * 1024
                time.sleep(delay)
        finally:
            record("stream-closed", chunks)

    return StreamingResponse(body(), media_type="text/plain")


@app.get("/astream")
async def astream(chunks: int = 50, delay: float = 0.05) -> StreamingResponse:
    """An async generator body whose cleanup is logged."""

    async def body() -> AsyncIterator[bytes]:
        record("astream-start", chunks)
        try:
            for index in range(chunks):
                yield f"chunk {index}\n".encode() + b"." * 1024
                await asyncio.sleep(delay)
        finally:
            record("astream-closed", chunks)

    return StreamingResponse(body(), media_type="text/plain")


@app.get("/inject")
def inject() -> Response:
    """A handler that tries to split the response with CR/LF in a header value."""
    return Response("x", headers={"x-injected": "a\r\nSet-Cookie: evil=1"})


wsgi = app.wsgi
asgi = app.asgi


@app.get("/file")
def file() -> FileResponse:
    """This module's own source, as a file response (a half-closed client must get it whole)."""
    return FileResponse(__file__, media_type="text/plain")
