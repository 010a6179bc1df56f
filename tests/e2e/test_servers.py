"""The reference app under real Gunicorn (sync workers) and Hypercorn, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

# Every way the README says the app can be served: the App object itself and the explicit
# single-protocol callables.
TARGETS = [
    ("gunicorn", "benchmarks.app:wsgi"),
    ("gunicorn", "benchmarks.app:app"),
    ("hypercorn", "benchmarks.app:asgi"),
    ("hypercorn", "benchmarks.app:app.asgi"),
    ("hypercorn", "asgi:benchmarks.app:app"),
]


@pytest.fixture(scope="module", params=TARGETS, ids=[f"{s}-{t}" for s, t in TARGETS])
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server, target = request.param
    with serve(server, target, workers=2) as url:
        yield url


# (method, path, body, content type) -> (status, content type, body or None to skip)
CASES: list[tuple[str, str, bytes | None, str | None, int, str, bytes | None]] = [
    ("GET", "/plaintext", None, None, 200, "text/plain; charset=utf-8", b"Hello, World!"),
    ("GET", "/json", None, None, 200, "application/json", b'{"message":"Hello, World!"}'),
    ("GET", "/api/v1/r87/42", None, None, 200, "application/json", b'{"route":87,"id":42}'),
    ("GET", "/api/v1/r87/x", None, None, 404, "application/problem+json", None),
    ("GET", "/search?q=hi&limit=3", None, None, 200, "application/json", b'{"q":"hi","limit":3}'),
    ("GET", "/search?limit=3", None, None, 422, "application/problem+json", None),
    (
        "POST",
        "/items",
        b'{"name":"a","price":2}',
        "application/json",
        201,
        "application/json",
        None,
    ),
    (
        "POST",
        "/items",
        b'{"name":"a","price":"2"}',
        "application/json",
        422,
        "application/problem+json",
        None,
    ),
    ("POST", "/items", b"{oops", "application/json", 400, "application/problem+json", None),
    ("POST", "/items", b"{}", "text/plain", 415, "application/problem+json", None),
    ("PUT", "/json", None, None, 405, "application/problem+json", None),
    ("GET", "/nowhere", None, None, 404, "application/problem+json", None),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]} {c[1]} {c[4]}" for c in CASES])
def test_reference_routes(
    base_url: str, case: tuple[str, str, bytes | None, str | None, int, str, bytes | None]
) -> None:
    method, path, body, content_type, status, expected_type, expected_body = case
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.request(method, base_url + path, content=body, headers=headers, timeout=10)
    assert response.status_code == status
    assert response.headers["content-type"] == expected_type
    if expected_body is not None:
        assert response.content == expected_body
    if status == 405:
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_declared_body_over_limit_is_413(base_url: str) -> None:
    response = httpx.post(
        base_url + "/items",
        content=b" " * (1024 * 1024 + 10),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413


def test_chunked_body_over_limit_is_413(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b" " * 65536

    response = httpx.post(
        base_url + "/items",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413


def test_chunked_body_within_limit_is_read(base_url: str) -> None:
    response = httpx.post(
        base_url + "/items",
        content=iter([b'{"name":"chunk', b'ed","price":3}']),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 201
    assert response.json()["name"] == "chunked"


def test_head_has_no_body(base_url: str) -> None:
    response = httpx.head(base_url + "/json", timeout=10)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("server", ["gunicorn", "hypercorn"])
def test_hooks_run_once_per_worker_and_on_stop(server: str, tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    target = "tests.e2e.hooks_app:app" if server == "gunicorn" else "tests.e2e.hooks_app:app.asgi"
    # Hypercorn 0.18 terminate()s the other workers as soon as one exits, which can cut their
    # shutdown hooks short (a race in the server), so its check uses one worker;
    # tests/deploy covers startup-once with several Hypercorn workers.
    workers = 2 if server == "gunicorn" else 1
    with serve(server, target, workers=workers, env={"DUOWEB_HOOK_LOG": str(log)}) as url:
        pids = {httpx.get(url + "/", timeout=10).json() for _ in range(20)}
    events = [line.split() for line in log.read_text().splitlines()]
    started = [int(pid) for event, pid in events if event == "startup"]
    stopped = [int(pid) for event, pid in events if event == "shutdown"]
    assert pids <= set(started)
    assert len(started) == len(set(started))  # once per process
    assert sorted(stopped) == sorted(started)  # every started worker ran its shutdown hooks
