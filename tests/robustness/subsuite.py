"""Run some of the test suite in a fresh interpreter with its own environment and flags."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(
    targets: Sequence[str],
    env: dict[str, str],
    basetemp: Path,
    flags: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """pytest over ``targets`` from the repository root, without the project's addopts."""
    return subprocess.run(
        [
            sys.executable,
            *flags,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            f"--basetemp={basetemp}",
            *targets,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
