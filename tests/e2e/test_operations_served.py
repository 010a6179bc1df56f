"""Metrics and rate limits across 2 worker processes of real Gunicorn and Hypercorn servers.

Metrics use prometheus-client's multiprocess mode: whichever worker answers ``/metrics``, the
counts are the sums over both. Rate limits share a real Redis, started by
``scripts/provision_redis.sh`` (which scripts/test.sh runs); outside CI the Redis tests skip
when it is not running, naming that command.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.servers import ROOT, serve

pytestmark = pytest.mark.e2e

TARGETS = {
    "gunicorn": "tests.e2e.operations_app:app",
    "hypercorn": "tests.e2e.operations_app:app.asgi",
}
REDIS_POINTER = ROOT / "build" / "redis-url"


def redis_url() -> str:
    """The URL of the Redis scripts/provision_redis.sh started; fail in CI, skip elsewhere."""
    url = REDIS_POINTER.read_text().strip() if REDIS_POINTER.exists() else ""
    if url:
        return url
    message = f"no Redis for the tests: run `bash scripts/provision_redis.sh` ({REDIS_POINTER})"
    if os.environ.get("CI", "") not in ("", "0", "false"):
        pytest.fail(message)
    pytest.skip(message)


def server_env(server: str, multiproc_dir: Path, **extra: str) -> dict[str, str]:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir), **extra}
    if server == "gunicorn":
        env["GUNICORN_CMD_ARGS"] = "-c tests/e2e/gunicorn_metrics.conf.py"
    return env


def both_workers(base_url: str) -> tuple[set[int], int]:
    """Send rounds of concurrent slow requests until two workers have answered.

    Returns the pids seen and how many /slow requests were sent.
    """
    pids: set[int] = set()
    sent = 0
    with ThreadPoolExecutor(4) as pool:
        while len(pids) < 2 and sent < 40:
            urls = [base_url + "/slow"] * 4
            pids.update(
                answer.json() for answer in pool.map(lambda u: httpx.get(u, timeout=10), urls)
            )
            sent += 4
    return pids, sent


def requests_total(text: str, route: str, status: str = "200") -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "http_server_requests_total"
                and labels.get("route") == route
                and labels.get("status") == status
            ):
                total += sample.value
    return total


def settled_scrape(base_url: str, route: str, expected: float) -> httpx.Response:
    """A scrape once every worker has flushed: each moves its tallies to the shared files
    every second (and before it answers a scrape), so the sums catch up within about that."""
    deadline = time.monotonic() + 15
    while True:
        scrape = httpx.get(base_url + "/metrics", timeout=10)
        if requests_total(scrape.text, route) >= expected or time.monotonic() > deadline:
            return scrape
        time.sleep(0.1)


@pytest.fixture(params=sorted(TARGETS))
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    server: str = request.param
    with serve(server, TARGETS[server], workers=2, env=server_env(server, tmp_path)) as url:
        yield url


def test_metrics_are_summed_over_both_workers(served: str) -> None:
    pids, slow_requests = both_workers(served)
    assert len(pids) == 2, pids
    answered = {httpx.get(f"{served}/items/{n}", timeout=10).json()["pid"] for n in range(30)}
    assert answered <= pids
    settled_scrape(served, "/items/{item_id}", 30)
    scrapes = [httpx.get(served + "/metrics", timeout=10) for _ in range(6)]
    for scrape in scrapes:
        assert scrape.status_code == 200
        assert requests_total(scrape.text, "/items/{item_id}") == 30
        assert requests_total(scrape.text, "/slow") == slow_requests
        assert "/items/7" not in scrape.text
    ready = httpx.get(served + "/health/ready", timeout=10)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_a_rate_limit_in_redis_holds_across_gunicorn_workers(tmp_path: Path) -> None:
    env = server_env(
        "gunicorn",
        tmp_path,
        DUOWEB_REDIS_URL=redis_url(),
        DUOWEB_LIMIT_PREFIX=f"e2e-{uuid.uuid4().hex}",
    )
    with (
        serve("gunicorn", TARGETS["gunicorn"], workers=2, env=env) as url,
        ThreadPoolExecutor(3) as pool,
    ):
        answers = list(pool.map(lambda _: httpx.get(url + "/limited", timeout=10), range(15)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 10 + [429] * 5
    pids = {answer.json() for answer in answers if answer.status_code == 200}
    assert len(pids) == 2, "both workers should have answered"  # counted in one shared store
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["ratelimit-remaining"] == "0"
    assert int(refused.headers["retry-after"]) >= 1
