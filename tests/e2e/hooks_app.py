"""An app whose hooks append to a file, to see them run in real server processes."""

from __future__ import annotations

import os

from duoweb import App

app = App()
LOG = os.environ.get("DUOWEB_HOOK_LOG", "hooks.log")


def _write(event: str) -> None:
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"{event} {os.getpid()}\n")


@app.on_startup
def started() -> None:
    _write("startup")


@app.on_shutdown
async def stopped() -> None:
    _write("shutdown")


@app.get("/")
def index() -> int:
    return os.getpid()
