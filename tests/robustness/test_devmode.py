"""The compiled speedups under Python's debug checks: the speedups tests in development mode.

Development mode installs the debug memory allocator hooks (buffer overflows and underflows,
writes after free, API calls without the GIL are fatal), turns on faulthandler and shows
ResourceWarnings; ``-W error`` turns every warning into a failure. The behaviour tests of the
router and the parsers run in a subprocess that way, against both implementations. Set
``DUOWEB_DEVMODE_FULL=1`` to include the hypothesis property tests too (about a minute more).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from duoweb._select import SPEEDUP_MODULES
from tests.robustness.subsuite import ROOT, run_pytest

BEHAVIOUR = [
    "tests/speedups/test_router.py",
    "tests/speedups/test_router_build_path.py",
    "tests/speedups/test_headers.py",
    "tests/speedups/test_messages.py",
    "tests/speedups/test_serve.py",
    "tests/speedups/test_multipart.py",
]
FULL = os.environ.get("DUOWEB_DEVMODE_FULL", "") == "1"


@pytest.mark.parametrize("switch", ["PYTHONDEVMODE=1", "-X dev"])
def test_speedups_tests_pass_in_development_mode(switch: str, tmp_path: Path) -> None:
    compiled = tuple(compiled_name for compiled_name, _pure in SPEEDUP_MODULES.values())
    if any(importlib.util.find_spec(name) is None for name in compiled):
        if os.environ.get("DUOWEB_REQUIRE_EXTENSIONS", "") == "1":
            pytest.fail("the compiled speedups are not built")
        pytest.skip("the compiled speedups are not built")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DUOWEB_REQUIRE_EXTENSIONS": "1",
        "DUOWEB_HYPOTHESIS_EXAMPLES": os.environ.get("DUOWEB_HYPOTHESIS_EXAMPLES", "50"),
    }
    env.pop("PYTHONDEVMODE", None)
    env.pop("DUOWEB_NO_EXTENSIONS", None)  # this test is about the compiled code
    flags: list[str] = []
    if switch == "-X dev":
        flags = ["-X", "dev"]
    else:
        env["PYTHONDEVMODE"] = "1"
    check = "import sys, duoweb; assert sys.flags.dev_mode; print(duoweb.speedups_report())"
    probe = subprocess.run(
        [sys.executable, *flags, "-c", check],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert "'compiled'" in probe.stdout, probe.stdout
    assert "'pure'" not in probe.stdout, probe.stdout
    targets = ["tests/speedups"] if FULL else BEHAVIOUR
    proc = run_pytest(targets, env, tmp_path / "pytest", flags=[*flags, "-W", "error"])
    output = proc.stdout[-6000:] + proc.stderr[-4000:]
    assert proc.returncode == 0, output
    assert " passed" in proc.stdout, output
    assert "skipped" not in proc.stdout, output
