"""Memory stays flat under many in-process requests of the five reference route kinds.

By default 200,000 requests in total (100,000 per mode, 20,000 per route kind and mode); set
``DUOWEB_LEAK_REQUESTS=2000000`` for the full 200,000 per kind and mode. The traced Python heap
(tracemalloc) and the RSS are sampled after each of 8 windows, once warm; growth from the first
window to the last must stay under the bounds below. The last two tests prove the checks
can fail.
"""

from __future__ import annotations

import os

import pytest

import benchmarks.app as reference
from duoweb import App, Response
from tests.robustness.inprocess import RawRequest
from tests.robustness.leaks import measure

TOTAL = int(os.environ.get("DUOWEB_LEAK_REQUESTS", "200000"))
#: Traced heap growth allowed over the measured windows: 64 KiB, i.e. under 1 byte per
#: request at the default count (a leaked dict per request is ~100x that).
MAX_TRACED_GROWTH = 64 * 1024
#: RSS moves in allocator arenas (1 MiB in CPython 3.11), so it gets a coarser bound.
MAX_RSS_GROWTH_KIB = 2048


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_reference_app_memory_is_flat(mode: str) -> None:
    report = measure(reference.app, mode, TOTAL // 2)
    print(report.summary())
    assert report.traced_growth < MAX_TRACED_GROWTH, report.summary()
    assert report.rss_growth < MAX_RSS_GROWTH_KIB, report.summary()


def _leaking_app(size: int) -> App:
    app = App(openapi_url=None, docs_url=None)
    kept: list[bytes] = []

    @app.get("/leak")
    def leak() -> Response:
        kept.append(os.urandom(size))  # random bytes: every page is really touched
        return Response(b"ok")

    return app


LEAK_KINDS = {"leak": (lambda n: RawRequest("GET", b"/leak"), 200)}


def test_the_heap_check_catches_a_small_leak() -> None:
    """100 bytes kept per request, over the same kind of run, fails the heap bound."""
    report = measure(_leaking_app(100), "wsgi", 24_000, kinds=LEAK_KINDS, warmup=100)
    print(report.summary())
    assert report.traced_growth > MAX_TRACED_GROWTH, report.summary()


def test_the_rss_check_catches_a_large_leak() -> None:
    """256 KiB kept per request (each its own mapping, never reused) fails the RSS bound."""
    report = measure(_leaking_app(256 * 1024), "asgi", 80, kinds=LEAK_KINDS, warmup=10)
    print(report.summary())
    assert report.rss_growth > MAX_RSS_GROWTH_KIB, report.summary()
