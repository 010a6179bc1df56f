"""Run an atheris fuzz target over a compiled speedup for a bounded time, as pytest tests do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.speedups.conftest import implementation

REPO = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("DUOWEB_FUZZ_SECONDS", "20"))


def fuzz_compiled(target: str, speedup: str, max_len: int, tmp_path: Path) -> None:
    """Run ``tests/fuzz/<target>`` against compiled ``speedup``; it must exit 0.

    Skips when atheris is missing or the extension is not built (fails instead under
    ``DUOWEB_REQUIRE_EXTENSIONS=1``). A crash leaves its input under ``tmp_path``.
    """
    pytest.importorskip("atheris")
    implementation(speedup, "compiled")
    proc = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name(target)),
            f"-max_total_time={SECONDS}",
            "-runs=2000000",
            f"-max_len={max_len}",
            "-timeout=10",
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Done" in proc.stderr, proc.stderr[-2000:]
