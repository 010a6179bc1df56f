"""The whole request path in pure Python: the app-level suites with DUOWEB_NO_EXTENSIONS=1.

Everywhere else the suite runs on the compiled speedups; the pure twins are tested one by one
in tests/speedups. Here the tests of a whole app (both modes, middleware, streaming, the
reference app) run in a subprocess that uses only the twins, as an install without a C
compiler would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.robustness.subsuite import ROOT, run_pytest

APP_SUITES = [
    "tests/test_app_basics.py",
    "tests/test_reference_app.py",
    "tests/test_middleware.py",
    "tests/test_streaming.py",
    "tests/test_body_limits.py",
]


def test_app_suites_pass_on_the_pure_twins(tmp_path: Path) -> None:
    env = {**os.environ, "DUOWEB_NO_EXTENSIONS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("DUOWEB_REQUIRE_EXTENSIONS", None)
    check = "import duoweb; print(sorted(set(duoweb.speedups_report().values())))"
    probe = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert probe.stdout.strip() == "['pure']", probe.stderr
    proc = run_pytest(APP_SUITES, env, tmp_path / "pytest")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
