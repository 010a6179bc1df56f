"""Run the multipart-parser fuzz target for a bounded time in a subprocess; it must exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.runner import fuzz_compiled


@pytest.mark.fuzz
def test_fuzz_multipart(tmp_path: Path) -> None:
    fuzz_compiled("fuzz_multipart.py", "multipart", 2048, tmp_path)
