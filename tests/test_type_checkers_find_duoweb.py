"""A user's own module, outside this checkout, type-checks against duoweb from the .venv.

scripts/setup.sh installs duoweb editable in setuptools' "compat" mode: a plain path in a .pth
file, which mypy (and pyright) read, unlike the import hook of the default editable mode. This
runs mypy --strict the way a user would: from another directory, with no MYPYPATH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_MODULE = """
from duoweb import App, Request
from duoweb.testing import TestClient

app = App()


@app.get("/users/{user_id}")
def get_user(user_id: int, request: Request) -> dict[str, int]:
    return {"id": user_id}


def check() -> int:
    with TestClient(app, mode="asgi") as client:
        status: int = client.get("/users/1").status_code
    return status
"""


def test_mypy_strict_sees_duoweb_from_a_users_directory(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(USER_MODULE)
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    cache = str(tmp_path / "cache")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, "myapp.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout
