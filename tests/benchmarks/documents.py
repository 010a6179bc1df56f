"""Results documents for tests of the benchmarks page."""

from __future__ import annotations

from typing import Any

from benchmarks import report


def page(**parts: Any) -> str:
    """The benchmarks page for a results document with only ``parts`` in it."""
    meta = {
        "command": "python -m benchmarks.run",
        "date": "2026-01-01 00:00 UTC",
        "git": "abc123",
        "results_file": "x.json",
        "cpu_model": "cpu",
        "cpu_count": 2,
        "platform": "linux",
        "python": "CPython 3.11",
        "loadavg_start": "0.00",
        "versions": {},
    }
    options = {
        "routes": ["plaintext", "json"],
        "requests": {"plaintext": "GET /plaintext", "json": "GET /json"},
        "served-instructions": {"requests": 500, "connections": 4},
    }
    return report.render_markdown({"meta": meta, "options": options, **parts}, None)
