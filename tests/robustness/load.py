"""A small, bounded HTTP load generator (threads + http.client) for the reference routes.

It counts every answer by route and status, and every connection-level failure separately
(a worker killed mid-request resets its connections: that is not an HTTP answer). For a
faster generator, see the wrk commands in docs/robustness.md.
"""

from __future__ import annotations

import collections
import dataclasses
import http.client
import itertools
import threading
import time
from collections.abc import Callable

#: (route kind, method, path, body) -- the five reference route kinds of benchmarks/app.py.
REFERENCE_MIX: list[tuple[str, str, str, bytes | None]] = [
    ("plaintext", "GET", "/plaintext", None),
    ("json", "GET", "/json", None),
    ("path-param", "GET", "/api/v1/r42/7", None),
    ("query", "GET", "/search?q=hello&limit=5", None),
    ("json-body", "POST", "/items", b'{"name":"widget","price":9.5,"tags":["a"]}'),
]


@dataclasses.dataclass
class LoadResult:
    """What a load run saw."""

    answers: collections.Counter[tuple[str, int]]  # (route kind, status) -> count
    errors: collections.Counter[str]  # exception class name -> count
    elapsed: float

    @property
    def total(self) -> int:
        """HTTP answers received."""
        return sum(self.answers.values())

    @property
    def non_2xx(self) -> dict[tuple[str, int], int]:
        """Answers whose status is not 2xx."""
        return {key: n for key, n in self.answers.items() if not 200 <= key[1] < 300}

    @property
    def server_errors(self) -> dict[tuple[str, int], int]:
        """Answers whose status is 5xx."""
        return {key: n for key, n in self.answers.items() if key[1] >= 500}

    def summary(self) -> str:
        """One line for logs and the docs."""
        rate = self.total / self.elapsed if self.elapsed else 0.0
        return (
            f"{self.total} answers in {self.elapsed:.1f}s ({rate:.0f}/s), non-2xx "
            f"{sum(self.non_2xx.values())}, connection errors {sum(self.errors.values())} "
            f"{dict(self.errors)}"
        )


def run_load(
    port: int,
    seconds: float,
    *,
    concurrency: int = 8,
    mix: list[tuple[str, str, str, bytes | None]] = REFERENCE_MIX,
    during: Callable[[float], None] | None = None,
) -> LoadResult:
    """Send ``mix`` round-robin from ``concurrency`` threads for ``seconds`` seconds.

    ``during(elapsed)`` is called from the calling thread about every 50 ms (to kill a worker
    mid-load, or to sample memory).
    """
    answers: collections.Counter[tuple[str, int]] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def worker(offset: int) -> None:
        local_answers: collections.Counter[tuple[str, int]] = collections.Counter()
        local_errors: collections.Counter[str] = collections.Counter()
        connection: http.client.HTTPConnection | None = None
        for index in itertools.count(offset):
            if time.monotonic() >= deadline:
                break
            kind, method, path, body = mix[index % len(mix)]
            headers = {"content-type": "application/json"} if body is not None else {}
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                local_answers[(kind, response.status)] += 1
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as exc:
                local_errors[type(exc).__name__] += 1
                if connection is not None:
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()
        with lock:
            answers.update(local_answers)
            errors.update(local_errors)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        if during is not None:
            during(time.monotonic() - started)
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    return LoadResult(answers, errors, time.monotonic() - started)
