"""The todo example under real Gunicorn (sync workers) and Hypercorn, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e

T = TypeVar("T")


def eventually(read: Callable[[], T], done: Callable[[T], bool], seconds: float = 10) -> T:
    """What ``read`` returns once ``done`` accepts it (work after a response takes a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("server", "target"),
    [("gunicorn", "examples.todo.app:app"), ("hypercorn", "examples.todo.app:app.asgi")],
)
def test_create_list_patch_delete_flow(server: str, target: str, tmp_path: Path) -> None:
    database = tmp_path / "todo.sqlite3"
    with (
        serve(
            server, target, workers=2, env={"TODO_DB": str(database), "TODO_API_KEY": "k-e2e"}
        ) as base,
        httpx.Client(base_url=base, timeout=10, headers={"X-API-Key": "k-e2e"}) as http,
    ):
        refused = http.post("/lists", json={"title": "x"}, headers={"X-API-Key": "k-guess"})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "APIKey"
        created = http.post("/lists", json={"title": "Groceries"})
        assert created.status_code == 201
        list_id = created.json()["id"]
        items = f"/lists/{list_id}/items"
        ids = [http.post(items, json={"title": t}).json()["id"] for t in ("Milk", "Eggs", "Tea")]

        page = http.get(items, params={"limit": 2}).json()
        assert page["total"] == 3
        assert [item["title"] for item in page["items"]] == ["Milk", "Eggs"]

        patched = http.patch(f"{items}/{ids[1]}", json={"done": True})
        assert patched.json() == {
            "id": ids[1],
            "list_id": list_id,
            "title": "Eggs",
            "notes": "",
            "done": True,
        }
        # Two workers share the file: every request sees every committed change.
        for _ in range(6):
            done = http.get(items, params={"done": "true"}).json()
            assert [item["id"] for item in done["items"]] == [ids[1]]

        invalid = http.post(items, json={"title": ""})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert invalid.json()["errors"][0]["loc"] == ["body", "title"]

        # A background task logs each item after its response; any worker reads the log.
        logged = eventually(lambda: http.get("/activity").json(), lambda page: page["total"] == 3)
        assert logged["activity"][0]["detail"] == "'Tea' to 'Groceries'"

        assert http.delete(f"{items}/{ids[0]}").status_code == 204
        assert http.get(f"{items}/{ids[0]}").status_code == 404
        assert http.delete(f"/lists/{list_id}").status_code == 204
        missing = http.get(f"/lists/{list_id}")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
    assert database.exists()
