"""The reference app plus lifecycle hooks that log to a file, for the deployment tests.

Every server in tests/deploy serves this module. Its routes are those of ``benchmarks.app``
(the same object), plus two probes under ``/_deploy/``: which process answered, and a slow
route that keeps a request in flight while a test restarts the workers.
"""

from __future__ import annotations

import os
import time

from benchmarks.app import app
from duoweb import Request

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


wsgi = app.wsgi
asgi = app.asgi
