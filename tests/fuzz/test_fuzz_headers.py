"""Run the header-parser fuzz target for a bounded time in a subprocess; it must exit 0."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

TARGET = Path(__file__).with_name("fuzz_headers.py")
REPO = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("DUOWEB_FUZZ_SECONDS", "20"))


@pytest.mark.fuzz
def test_fuzz_headers(tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        pytest.skip("atheris is not installed")
    if importlib.util.find_spec("duoweb._speedups._headers") is None:
        if os.environ.get("DUOWEB_REQUIRE_EXTENSIONS", "") == "1":
            pytest.fail("compiled duoweb._speedups._headers is not built")
        pytest.skip("compiled duoweb._speedups._headers is not built; nothing to fuzz")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-max_total_time={SECONDS}",
            "-runs=2000000",
            "-max_len=512",
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
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
