"""A short, bounded run of the router fuzz target; the long run is in tests/fuzz/README.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.speedups.conftest import implementation

TARGET = Path(__file__).with_name("fuzz_router.py")
ROOT = TARGET.parents[2]


@pytest.mark.fuzz
def test_fuzz_router_short_run(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    implementation("router", "compiled")  # skips (or fails under CI) when not built
    seconds = int(os.environ.get("DUOWEB_FUZZ_SECONDS", "20"))
    runs = 200_000 if seconds <= 20 else -1  # -1: until the time is up
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-runs={runs}",
            f"-max_total_time={seconds}",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 160,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Done" in proc.stderr or "done" in proc.stderr.lower(), proc.stderr[-2000:]
