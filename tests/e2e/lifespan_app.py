"""An app with a lifespan and a background task that log to a file, for real server processes.

The task proves it runs after the response: it waits for the test to create a marker file,
which the test does only once it has the response in hand. Had the task run first, the
response would not have arrived until the wait gave up, and the task logs which happened.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from duoweb import App, AppState, BackgroundTasks

LOG = Path(os.environ.get("DUOWEB_LIFESPAN_LOG", "lifespan.log"))


def _write(line: str) -> None:
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"{line} {os.getpid()}\n")


@contextmanager
def lifespan(app: App) -> Iterator[str]:
    _write("enter")
    yield f"state of {os.getpid()}"
    _write("exit")


app = App(lifespan=lifespan)


@app.get("/")
def index(state: AppState[str]) -> list[object]:
    return [os.getpid(), state]


def wait_for_marker(marker: str) -> None:
    """The background task: log whether the client had its response before this ran."""
    deadline = time.monotonic() + 20
    while not Path(marker).exists():
        if time.monotonic() > deadline:
            _write("task-ran-before-the-response-arrived")
            return
        time.sleep(0.02)
    _write("task-ran-after-the-response")


@app.post("/notify")
def notify(marker: str, tasks: BackgroundTasks) -> str:
    tasks.add(wait_for_marker, marker)
    return "queued"


@app.post("/notify-async")
async def notify_async(marker: str, tasks: BackgroundTasks) -> str:
    tasks.add(wait_for_marker, marker)
    return "queued"
