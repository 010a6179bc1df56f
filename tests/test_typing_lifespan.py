"""``AppState[T]`` is ``T`` to type checkers, with no cast: checked by mypy --strict, run by pytest.

The ``type: ignore[...]`` lines are the negative proof: mypy --strict warns about unused
ignores, so if ``AppState[State]`` were ``Any`` (or anything but ``State``) these lines would
stop being errors and mypy would fail. ``assert_type`` fails mypy on any other type.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, assert_type

import pytest

from duoweb import App, AppState, BackgroundTasks, Depends
from duoweb.testing import TestClient


@dataclass
class State:
    """The typed lifespan state."""

    greeting: str
    hits: int = 0


@contextmanager
def lifespan(app: App) -> Iterator[State]:
    yield State("hello")


@asynccontextmanager
async def async_lifespan(app: App) -> AsyncIterator[State]:
    yield State("hi")


app = App(lifespan=lifespan)
async_app = App(lifespan=async_lifespan)


def count_hit(state: AppState[State]) -> int:
    assert_type(state, State)
    state.hits += 1
    return state.hits


def send_mail(user_id: int, subject: str) -> None:
    """A background task's target."""


@app.get("/{user_id}")
def greet(
    user_id: int,
    state: AppState[State],
    tasks: BackgroundTasks,
    hits: Annotated[int, Depends(count_hit)],
) -> str:
    greeting = assert_type(state.greeting, str)
    tasks.add(send_mail, user_id, subject=greeting)
    return f"{greeting} {user_id} ({hits})"


@async_app.get("/")
async def agreet(state: AppState[State]) -> str:
    return assert_type(state, State).greeting


def _mypy_rejects_wrong_uses(state: AppState[State], tasks: BackgroundTasks) -> None:
    missing = state.missing  # type: ignore[attr-defined]
    number: int = state  # type: ignore[assignment]
    tasks.add(send_mail, "not an int", subject="x")  # type: ignore[arg-type]
    tasks.add(send_mail, 1)  # type: ignore[call-arg]
    del number, missing


def test_state_is_typed_and_served() -> None:
    with TestClient(app) as client:
        assert client.get("/7").json() == "hello 7 (1)"
    with TestClient(async_app, "asgi") as client:
        assert client.get("/").json() == "hi"


def test_pyright_sees_the_same_types(tmp_path: Path) -> None:
    """pyright passes the assert_type lines and, with ignores off, finds exactly the 4 errors."""
    bin_dir = os.path.dirname(sys.executable)
    pyright = shutil.which("pyright", path=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    if pyright is None:
        pytest.skip("pyright is not installed (it is in the dev extra: pip install pyright)")
    checked = tmp_path / "checked.py"
    checked.write_text(Path(__file__).read_text(encoding="utf-8"), encoding="utf-8")
    config = {
        "include": [checked.name],
        "enableTypeIgnoreComments": False,
        "pythonVersion": "3.11",
        "extraPaths": [str(Path(__file__).resolve().parents[1])],
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    run = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", sys.executable],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(run.stdout)
    lines = [d["range"]["start"]["line"] + 1 for d in report["generalDiagnostics"]]
    source = checked.read_text(encoding="utf-8").splitlines()
    ignored = re.compile(r"  # type: ignore\[[\w,-]+\]$")
    expected = [n for n, line in enumerate(source, 1) if ignored.search(line)]
    assert lines == expected, report["generalDiagnostics"]
