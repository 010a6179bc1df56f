"""The reference app plus lifecycle hooks that log to a file, for the deployment tests.

Every server in tests/deploy serves this module. Its routes are those of ``benchmarks.app``
(the same object), plus probes under ``/_deploy/``: which process answered, a slow route that
keeps a request in flight while a test restarts the workers, where the app is mounted
(SCRIPT_NAME), which Python runs it, and a stream whose second chunk waits for the client's word.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duoweb
from benchmarks.app import app
from duoweb import Request, StreamingResponse

LOG = os.environ.get("DUOWEB_HOOK_LOG")


def _write(event: str) -> None:
    if not LOG:
        return
    # One short line per write with O_APPEND: concurrent workers never interleave within it.
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"{event} {os.getpid()}\n")


@app.on_startup
def started() -> None:
    """Record that this process ran its startup hooks."""
    _write("startup")


@app.on_shutdown
async def stopped() -> None:
    """Record that this process ran its shutdown hooks (an async hook, on purpose)."""
    _write("shutdown")


@app.get("/_deploy/pid", inline=True)
def pid() -> int:
    """The id of the worker process that answered."""
    return os.getpid()


@app.post("/_deploy/slow")
def slow(request: Request) -> dict[str, int]:
    """Sleep for ``ms`` milliseconds (at most 2 s), then echo the body's length and the pid."""
    delay = min(int(request.query.get("ms") or "0"), 2000)
    time.sleep(delay / 1000)
    return {"pid": os.getpid(), "length": len(request.body)}


@app.get("/_deploy/where")
def where(request: Request) -> dict[str, str]:
    """Where the server mounted the app (SCRIPT_NAME / root_path) and the URLs it implies."""
    return {
        "root_path": request.root_path,
        "path": request.path,
        "url": request.url,
        "r87": request.url_for("r87", id=42),
    }


@app.get("/_deploy/runtime")
def runtime() -> dict[str, object]:
    """The Python environment and the duoweb that run the app, and how its speedups run."""
    return {
        "prefix": sys.prefix,
        "duoweb": duoweb.__file__ or "",
        "speedups": duoweb.speedups_report(),
    }


STREAM_WAIT = 10.0


def _released_lines(release: Path | None) -> Iterator[bytes]:
    yield b"first\n"
    deadline = time.monotonic() + STREAM_WAIT
    while release is not None and not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    yield b"released\n" if release is not None and release.exists() else b"not released\n"


@app.get("/_deploy/stream")
def stream() -> StreamingResponse:
    """A line, then a second one once ``stream.release`` appears beside the hook log.

    The client creates that file only after it has received the first line, so the body
    ends ``released`` only when the server passed the first chunk on before the second one
    existed; a server that buffers the response sends ``not released`` after STREAM_WAIT s.
    """
    release = Path(LOG).with_name("stream.release") if LOG else None
    return StreamingResponse(_released_lines(release), media_type="text/plain")


wsgi = app.wsgi
asgi = app.asgi
