"""Run the header-parser fuzz target for a bounded time in a subprocess; it must exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.runner import fuzz_compiled


@pytest.mark.fuzz
def test_fuzz_headers(tmp_path: Path) -> None:
    fuzz_compiled("fuzz_headers.py", "headers", 512, tmp_path)
