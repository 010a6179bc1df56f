"""setup.py: a speedup that does not compile is skipped, unless DUOWEB_REQUIRE_EXTENSIONS=1.

The project's setup.py builds, in a scratch directory, one speedup whose C code cannot
compile (it includes a header that does not exist), so the C compiler fails at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BROKEN = 'cdef extern from "duoweb_no_such_header.h":\n    pass\n\n\ndef f(x):\n    return x\n'


def build(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler on this machine")
    pytest.importorskip("Cython")
    speedups = tmp_path / "duoweb" / "_speedups"
    speedups.mkdir(parents=True)
    (tmp_path / "duoweb" / "__init__.py").write_text("")
    (speedups / "__init__.py").write_text("")
    (speedups / "_broken.pyx").write_text(BROKEN)
    shutil.copy(ROOT / "setup.py", tmp_path / "setup.py")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "scratch"\nversion = "0"\n[tool.setuptools]\npackages = []\n'
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DUOWEB_")}
    return subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_speedup_that_does_not_compile_is_left_out(tmp_path: Path) -> None:
    result = build(tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'building extension "duoweb._speedups._broken" failed' in result.stderr
    assert not list((tmp_path / "duoweb" / "_speedups").glob("_broken.*.so"))


def test_required_speedups_fail_the_build(tmp_path: Path) -> None:
    result = build(tmp_path, DUOWEB_REQUIRE_EXTENSIONS="1")
    assert result.returncode != 0
    assert "duoweb_no_such_header.h" in result.stderr
