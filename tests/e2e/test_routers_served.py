"""A nested router and mounted apps through real Gunicorn (WSGI) and Hypercorn (ASGI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

TARGETS = [
    ("gunicorn", "tests.e2e.routers_app:app"),
    ("hypercorn", "tests.e2e.routers_app:app.asgi"),
]


@pytest.fixture(scope="module", params=TARGETS, ids=[server for server, _ in TARGETS])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    server, target = request.param
    log = tmp_path_factory.mktemp(server) / "mounts.log"
    with serve(server, target, workers=1, env={"DUOWEB_MOUNT_LOG": str(log)}) as url:
        yield url, log


def test_a_route_through_three_routers(served: tuple[str, Path]) -> None:
    base, _ = served
    assert httpx.get(base + "/api/v1/users/5").status_code == 401
    response = httpx.get(base + "/api/v1/users/5", headers={"x-key": "secret"})
    assert response.json() == {"id": 5}


def test_mounted_apps_get_their_prefix_and_path(served: tuple[str, Path]) -> None:
    base, _ = served
    assert httpx.get(base + "/admin/where").json() == "/admin"
    assert httpx.get(base + "/legacy/a/b").text == "/legacy|/a/b"
    assert httpx.get(base + "/live/feed").text == "/live|/live/feed"
    assert httpx.get(base + "/").json() == "root"


def test_mounted_apps_were_started_in_the_worker(served: tuple[str, Path]) -> None:
    base, log = served
    httpx.get(base + "/")
    events = [line.split()[0] for line in log.read_text().splitlines()]
    assert "admin-startup" in events
    assert "live-startup" in events
