"""Bounded runs of the whole-request fuzz target, once per mode; the long run is in the README."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

TARGET = Path(__file__).with_name("fuzz_app.py")
REPO = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("DUOWEB_FUZZ_SECONDS", "20"))


@pytest.mark.fuzz
@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_fuzz_app(mode: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        pytest.skip("atheris is not installed")
    env = {**os.environ, "PYTHONPATH": str(REPO), "DUOWEB_FUZZ_MODE": mode}
    proc = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-max_total_time={SECONDS}",
            "-runs=100000000",
            "-timeout=10",
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        check=False,
    )
    output = proc.stdout[-4000:] + proc.stderr[-6000:]
    assert proc.returncode == 0, output
    assert "Done" in proc.stderr, output
