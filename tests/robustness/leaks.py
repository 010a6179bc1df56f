"""Drive many in-process requests and watch memory: traced Python heap and process RSS.

``python -m tests.robustness.leaks [total]`` prints the figures for the reference app in both
modes (docs/robustness.md quotes them); tests/robustness/test_leaks.py asserts on them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import io
import itertools
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from duoweb import App, speedups_report
from tests.robustness.inprocess import RawRequest, environ_for, scope_for

#: One request factory per reference route kind; each call gives a new, distinct request
#: (new ids, new query text), so a cache keyed by the request would grow and be caught.
RequestFactory = Callable[[int], RawRequest]

_JSON = ((b"content-type", b"application/json"),)

REFERENCE_KINDS: dict[str, tuple[RequestFactory, int]] = {
    "plaintext": (lambda n: RawRequest("GET", b"/plaintext"), 200),
    "json": (lambda n: RawRequest("GET", b"/json"), 200),
    "path-param": (lambda n: RawRequest("GET", b"/api/v1/r%d/%d" % (n % 100, n)), 200),
    "query": (lambda n: RawRequest("GET", b"/search?q=term%d&limit=%d" % (n, n % 100 + 1)), 200),
    "json-body": (
        lambda n: RawRequest(
            "POST", b"/items", _JSON, b'{"name":"item%d","price":%d.5,"tags":["a","b"]}' % (n, n)
        ),
        201,
    ),
}


def rss_kib() -> int:
    """This process's resident set size in KiB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError("no VmRSS")


@dataclasses.dataclass
class Report:
    """Memory after each measured window, once warm."""

    mode: str
    requests: int
    traced: list[int]  # bytes traced by tracemalloc (allocated since the warm-up, still alive)
    rss: list[int]  # KiB

    @property
    def traced_growth(self) -> int:
        """Bytes of traced heap gained from the first measured window to the last."""
        return self.traced[-1] - self.traced[0]

    @property
    def rss_growth(self) -> int:
        """KiB of RSS gained from the first measured window to the last."""
        return self.rss[-1] - self.rss[0]

    def summary(self) -> str:
        """One line for logs and the docs."""
        return (
            f"{self.mode}: {self.requests} requests, traced heap "
            f"{self.traced[0] / 1024:.0f} -> {self.traced[-1] / 1024:.0f} KiB "
            f"({self.traced_growth / 1024:+.1f} KiB), RSS {self.rss[0]} -> {self.rss[-1]} KiB "
            f"({self.rss_growth:+d} KiB)"
        )


def _mix(kinds: dict[str, tuple[RequestFactory, int]]) -> Iterator[tuple[RawRequest, int]]:
    """Round-robin over the kinds, each with a growing counter."""
    factories = list(kinds.values())
    for n in itertools.count():
        factory, status = factories[n % len(factories)]
        yield factory(n), status


def _wsgi_driver(app: App, kinds: dict[str, tuple[RequestFactory, int]]) -> Callable[[int], None]:
    requests = _mix(kinds)
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
        seen.append(status)
        return None

    def drive(count: int) -> None:
        for request, expected in itertools.islice(requests, count):
            environ = environ_for(request)
            environ["wsgi.errors"] = io.StringIO()
            result = app.wsgi(environ, start_response)
            b"".join(result)
            close = getattr(result, "close", None)
            if close is not None:
                close()
            status = seen.pop()
            if int(status[:3]) != expected:
                raise AssertionError(f"{request.target!r}: {status}")

    return drive


def _asgi_driver(
    app: App, kinds: dict[str, tuple[RequestFactory, int]], loop: asyncio.AbstractEventLoop
) -> Callable[[int], None]:
    requests = _mix(kinds)

    async def one(request: RawRequest, expected: int) -> None:
        sent: list[dict[str, Any]] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": request.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app.asgi(scope_for(request), receive, send)
        if sent[0]["status"] != expected:
            raise AssertionError(f"{request.target!r}: {sent[0]['status']}")

    async def many(count: int) -> None:
        for request, expected in itertools.islice(requests, count):
            await one(request, expected)

    def drive(count: int) -> None:
        loop.run_until_complete(many(count))

    return drive


def measure(
    app: App,
    mode: str,
    requests: int,
    *,
    kinds: dict[str, tuple[RequestFactory, int]] = REFERENCE_KINDS,
    windows: int = 8,
    warmup: int = 2000,
) -> Report:
    """Warm up, then run ``requests`` requests in ``windows`` windows, sampling after each."""
    loop = asyncio.new_event_loop()
    try:
        drive = _wsgi_driver(app, kinds) if mode == "wsgi" else _asgi_driver(app, kinds, loop)
        drive(warmup)
        gc.collect()
        tracemalloc.start()
        traced: list[int] = []
        rss: list[int] = []
        per_window = max(1, requests // windows)
        try:
            for _ in range(windows):
                drive(per_window)
                gc.collect()
                traced.append(tracemalloc.get_traced_memory()[0])
                rss.append(rss_kib())
        finally:
            tracemalloc.stop()
        return Report(mode, per_window * windows, traced, rss)
    finally:
        loop.close()


def main() -> None:
    """Print the figures for the reference app: ``python -m tests.robustness.leaks [total]``."""
    import benchmarks.app as reference

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    for mode in ("wsgi", "asgi"):
        print(measure(reference.app, mode, total // 2).summary(), flush=True)
    print(f"speedups: {speedups_report()}")


if __name__ == "__main__":
    main()
