"""The todo example, every endpoint and error, in both modes against a temporary database."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from duoweb.testing import TestClient
from examples.todo import db as todo_db
from examples.todo.app import app
from tests.conftest import MakeClient

PROBLEM = "application/problem+json"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database file, named by TODO_DB for the app to use."""
    path = tmp_path / "todo.sqlite3"
    monkeypatch.setenv("TODO_DB", str(path))
    return path


API_KEY = "k-test-writer"


@pytest.fixture
def client(
    make_client: MakeClient, database: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """A client that sends the API key the write routes need."""
    monkeypatch.setenv("TODO_API_KEY", API_KEY)
    with make_client(app) as client:
        client.headers["X-API-Key"] = API_KEY
        yield client


def new_list(client: TestClient, title: str = "Groceries") -> int:
    response = client.post("/lists", json={"title": title})
    assert response.status_code == 201, response.text
    list_id: int = response.json()["id"]
    return list_id


def new_item(client: TestClient, list_id: int, **fields: Any) -> dict[str, Any]:
    response = client.post(f"/lists/{list_id}/items", json={"title": "Milk", **fields})
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def error_locs(response: Any) -> list[list[str | int]]:
    return [error["loc"] for error in assert_problem(response, 422)["errors"]]


# --- the app as a whole ---------------------------------------------------------------------


def test_index_links_to_the_collections_and_docs(client: TestClient) -> None:
    assert client.get("/").json() == {
        "lists": "/lists",
        "activity": "/activity",
        "docs": "/docs",
        "openapi": "/openapi.json",
    }


def test_openapi_document_describes_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/",
        "/activity",
        "/lists",
        "/lists/{list_id}",
        "/lists/{list_id}/items",
        "/lists/{list_id}/items/{item_id}",
    }
    assert set(paths["/lists/{list_id}/items/{item_id}"]) == {"get", "patch", "delete"}


def test_schema_is_created_once_and_data_persists(make_client: MakeClient, database: Path) -> None:
    with make_client(app) as client:
        client.headers["X-API-Key"] = "todo-dev-key"  # TODO_API_KEY is not set: the default
        list_id = new_list(client, "Kept")
    assert database.exists()
    with make_client(app) as client:  # startup runs again: CREATE TABLE IF NOT EXISTS
        assert client.get(f"/lists/{list_id}").json() == {"id": list_id, "title": "Kept"}


def test_database_path_defaults_to_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TODO_DB", raising=False)
    assert todo_db.database_path() == "todo.sqlite3"
    monkeypatch.setenv("TODO_DB", "/tmp/elsewhere.db")
    assert todo_db.database_path() == "/tmp/elsewhere.db"


def test_unknown_route_and_method(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404)
    not_allowed = assert_problem(client.put("/lists"), 405)
    assert "Method Not Allowed" in not_allowed["title"]
    assert client.options("/lists").headers["allow"] == "GET, HEAD, OPTIONS, POST"


# --- lists ----------------------------------------------------------------------------------


def test_create_and_read_a_list(client: TestClient) -> None:
    response = client.post("/lists", json={"title": "Groceries"})
    assert response.status_code == 201
    created = response.json()
    assert created == {"id": created["id"], "title": "Groceries"}
    assert client.get(f"/lists/{created['id']}").json() == created


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "title"]),
        ({"title": ""}, ["body", "title"]),
        ({"title": "x" * 201}, ["body", "title"]),
        ({"title": 7}, ["body", "title"]),
        ({"title": None}, ["body", "title"]),
        ({"title": "ok", "colour": "red"}, ["body"]),
        (["title"], ["body"]),
    ],
)
def test_create_list_validation(client: TestClient, body: Any, loc: list[str]) -> None:
    assert error_locs(client.post("/lists", json=body)) == [loc]
    assert client.get("/lists").json()["total"] == 0


def test_create_list_framing_errors(client: TestClient) -> None:
    malformed = client.post(
        "/lists", content=b'{"title":', headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 400)
    as_text = client.post(
        "/lists", content=b'{"title":"a"}', headers={"content-type": "text/plain"}
    )
    assert_problem(as_text, 415)


def test_list_lists_is_paginated_with_a_total(client: TestClient) -> None:
    ids = [new_list(client, f"List {n}") for n in range(5)]
    first = client.get("/lists?limit=2").json()
    assert first == {
        "lists": [{"id": ids[0], "title": "List 0"}, {"id": ids[1], "title": "List 1"}],
        "total": 5,
        "limit": 2,
        "offset": 0,
    }
    last = client.get("/lists?limit=2&offset=4").json()
    assert [lst["id"] for lst in last["lists"]] == [ids[4]]
    assert client.get("/lists?offset=10").json()["lists"] == []
    assert client.get("/lists").json()["limit"] == 20


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("offset=1000000001", "offset"),
        ("offset=9223372036854775808", "offset"),  # was a 500: SQLite's integer overflow
    ],
)
def test_pagination_bounds(client: TestClient, query: str, name: str) -> None:
    assert error_locs(client.get(f"/lists?{query}")) == [["query", name]]


def test_missing_list_is_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/lists/999"), 404)
    assert body["detail"] == "Todo list 999 does not exist."
    assert_problem(client.patch("/lists/999", json={"title": "x"}), 404)
    assert_problem(client.delete("/lists/999"), 404)
    assert_problem(client.get("/lists/abc"), 404)  # not an int: no route matches


def test_patch_list_changes_only_what_is_sent(client: TestClient) -> None:
    list_id = new_list(client, "Before")
    assert client.patch(f"/lists/{list_id}", json={}).json() == {"id": list_id, "title": "Before"}
    renamed = client.patch(f"/lists/{list_id}", json={"title": "After"})
    assert renamed.json() == {"id": list_id, "title": "After"}
    assert client.get(f"/lists/{list_id}").json()["title"] == "After"
    assert error_locs(client.patch(f"/lists/{list_id}", json={"title": ""})) == [["body", "title"]]
    assert error_locs(client.patch(f"/lists/{list_id}", json={"name": "x"})) == [["body"]]


def test_delete_list_removes_its_items(client: TestClient) -> None:
    list_id = new_list(client)
    item = new_item(client, list_id)
    response = client.delete(f"/lists/{list_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(client.get(f"/lists/{list_id}"), 404)
    assert_problem(client.get(f"/lists/{list_id}/items/{item['id']}"), 404)
    other = new_list(client)
    assert other != list_id  # ids are never reused
    assert client.get(f"/lists/{other}/items").json()["total"] == 0


# --- items ----------------------------------------------------------------------------------


def test_create_item_with_defaults_and_with_every_field(client: TestClient) -> None:
    list_id = new_list(client)
    plain = new_item(client, list_id, title="Milk")
    assert plain == {
        "id": plain["id"],
        "list_id": list_id,
        "title": "Milk",
        "notes": "",
        "done": False,
    }
    full = new_item(client, list_id, title="Bread", notes="wholemeal", done=True)
    assert (full["notes"], full["done"]) == ("wholemeal", True)
    assert client.get(f"/lists/{list_id}/items/{full['id']}").json() == full


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"notes": "no title"}, ["body", "title"]),
        ({"title": "a", "done": "yes"}, ["body", "done"]),
        ({"title": "a", "done": 1}, ["body", "done"]),
        ({"title": "a", "notes": "n" * 2001}, ["body", "notes"]),
        ({"title": "a", "list_id": 3}, ["body"]),
    ],
)
def test_create_item_validation(client: TestClient, body: Any, loc: list[str]) -> None:
    list_id = new_list(client)
    assert error_locs(client.post(f"/lists/{list_id}/items", json=body)) == [loc]


def test_items_of_a_missing_list_are_404(client: TestClient) -> None:
    assert_problem(client.post("/lists/404/items", json={"title": "a"}), 404)
    assert_problem(client.get("/lists/404/items"), 404)
    assert_problem(client.get("/lists/404/items/1"), 404)


def test_filter_items_by_done_and_text(client: TestClient) -> None:
    list_id = new_list(client)
    milk = new_item(client, list_id, title="Oat milk")
    bread = new_item(client, list_id, title="Bread", done=True)
    cheese = new_item(client, list_id, title="Cheese, MILK-based", done=True)
    odd = new_item(client, list_id, title="100% juice")
    elsewhere = new_list(client, "Elsewhere")
    new_item(client, elsewhere, title="Milk too")

    def ids(query: str) -> list[int]:
        page = client.get(f"/lists/{list_id}/items?{query}").json()
        assert page["total"] == len(page["items"])
        return [item["id"] for item in page["items"]]

    assert ids("") == [milk["id"], bread["id"], cheese["id"], odd["id"]]
    assert ids("done=true") == [bread["id"], cheese["id"]]
    assert ids("done=false") == [milk["id"], odd["id"]]
    assert ids("q=milk") == [milk["id"], cheese["id"]]
    assert ids("q=milk&done=false") == [milk["id"]]
    assert ids("q=%25") == [odd["id"]]  # "%" is matched literally, not as a wildcard
    assert ids("q=_") == []


def test_items_are_paginated_after_filtering(client: TestClient) -> None:
    list_id = new_list(client)
    done = [new_item(client, list_id, title=f"t{n}", done=n % 2 == 0)["id"] for n in range(7)]
    page = client.get(f"/lists/{list_id}/items?done=true&limit=2&offset=2").json()
    assert page["total"] == 4
    assert [item["id"] for item in page["items"]] == [done[4], done[6]]
    assert (page["limit"], page["offset"]) == (2, 2)


@pytest.mark.parametrize(
    ("query", "name"),
    [("done=maybe", "done"), ("q=", "q"), ("q=" + "x" * 101, "q"), ("limit=500", "limit")],
)
def test_item_filter_validation(client: TestClient, query: str, name: str) -> None:
    list_id = new_list(client)
    assert error_locs(client.get(f"/lists/{list_id}/items?{query}")) == [["query", name]]


def test_every_invalid_parameter_is_reported_at_once(client: TestClient) -> None:
    list_id = new_list(client)
    response = client.get(f"/lists/{list_id}/items?done=maybe&limit=0&offset=-1")
    assert sorted(error_locs(response)) == [
        ["query", "done"],
        ["query", "limit"],
        ["query", "offset"],
    ]


def test_patch_item_changes_only_what_is_sent(client: TestClient) -> None:
    list_id = new_list(client)
    item = new_item(client, list_id, title="Milk", notes="2 litres")
    url = f"/lists/{list_id}/items/{item['id']}"
    done = client.patch(url, json={"done": True}).json()
    assert done == {**item, "done": True}
    renamed = client.patch(url, json={"title": "Oat milk", "notes": ""}).json()
    assert renamed == {**item, "title": "Oat milk", "notes": "", "done": True}
    assert client.patch(url, json={}).json() == renamed
    assert client.get(url).json() == renamed


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"title": ""}, ["body", "title"]),
        ({"title": None}, ["body", "title"]),
        ({"done": "true"}, ["body", "done"]),
        ({"notes": None}, ["body", "notes"]),
        ({"id": 5}, ["body"]),
    ],
)
def test_patch_item_validation(client: TestClient, body: Any, loc: list[str]) -> None:
    list_id = new_list(client)
    item = new_item(client, list_id)
    url = f"/lists/{list_id}/items/{item['id']}"
    assert error_locs(client.patch(url, json=body)) == [loc]
    assert client.get(url).json() == item


def test_an_item_belongs_to_its_list(client: TestClient) -> None:
    first, second = new_list(client), new_list(client)
    item = new_item(client, first)
    wrong = f"/lists/{second}/items/{item['id']}"
    body = assert_problem(client.get(wrong), 404)
    assert body["detail"] == f"Todo list {second} has no item {item['id']}."
    assert_problem(client.patch(wrong, json={"done": True}), 404)
    assert_problem(client.delete(wrong), 404)
    assert client.get(f"/lists/{first}/items/{item['id']}").json() == item


def test_delete_item(client: TestClient) -> None:
    list_id = new_list(client)
    keep, drop = new_item(client, list_id, title="keep"), new_item(client, list_id, title="drop")
    response = client.delete(f"/lists/{list_id}/items/{drop['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert_problem(client.get(f"/lists/{list_id}/items/{drop['id']}"), 404)
    assert_problem(client.delete(f"/lists/{list_id}/items/{drop['id']}"), 404)
    assert client.get(f"/lists/{list_id}/items").json()["items"] == [keep]


# --- app-lifetime state and the activity log ------------------------------------------------


def test_adding_an_item_logs_it_after_the_response(client: TestClient) -> None:
    list_id = new_list(client, "Groceries")
    new_item(client, list_id, title="Milk")
    new_item(client, list_id, title="Eggs")
    page = client.get("/activity").json()
    assert page["total"] == 2
    assert [(entry["action"], entry["detail"]) for entry in page["activity"]] == [
        ("item added", "'Eggs' to 'Groceries'"),
        ("item added", "'Milk' to 'Groceries'"),
    ]
    assert client.get("/activity?limit=1&offset=1").json()["activity"][0]["detail"] == (
        "'Milk' to 'Groceries'"
    )


def test_a_rejected_item_logs_nothing(client: TestClient) -> None:
    list_id = new_list(client)
    assert_problem(client.post(f"/lists/{list_id}/items", json={"title": ""}), 422)
    assert client.get("/activity").json()["total"] == 0


def test_lifespan_creates_the_schema_and_closes_every_connection(database: Path) -> None:
    with contextlib.ExitStack() as stack:
        state = stack.enter_context(todo_db.lifespan(app))
        with state.pool.transaction() as first, state.pool.transaction() as second:
            assert first is not second  # borrowing never waits for another request
        with state.pool.transaction() as again:
            assert again in (first, second)  # idle connections are reused
        opened = list(state.pool.opened)
    assert len(opened) == 2
    for db in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            db.execute("SELECT 1")


def test_a_transaction_commits_on_success_and_rolls_back_on_error(database: Path) -> None:
    with todo_db.lifespan(app) as state:

        def insert_then_fail() -> None:
            with state.pool.transaction() as db:
                db.execute("INSERT INTO lists (title) VALUES ('rolled back')")
                raise RuntimeError("handler failed")

        with state.pool.transaction() as db:
            db.execute("INSERT INTO lists (title) VALUES ('committed')")
        with pytest.raises(RuntimeError, match="handler failed"):
            insert_then_fail()
    with contextlib.closing(sqlite3.connect(database)) as check:
        titles = [row[0] for row in check.execute("SELECT title FROM lists")]
    assert titles == ["committed"]


def test_writes_need_the_api_key(client: TestClient) -> None:
    list_id = new_list(client)
    item_id = new_item(client, list_id)["id"]
    writes = [
        ("POST", "/lists", {"title": "x"}),
        ("PATCH", f"/lists/{list_id}", {"title": "x"}),
        ("DELETE", f"/lists/{list_id}", None),
        ("POST", f"/lists/{list_id}/items", {"title": "x"}),
        ("PATCH", f"/lists/{list_id}/items/{item_id}", {"done": True}),
        ("DELETE", f"/lists/{list_id}/items/{item_id}", None),
    ]
    for key in (None, "k-wrong", "todo-dev-key"):
        headers = {"X-API-Key": key} if key else {}
        del client.headers["X-API-Key"]
        for method, path, body in writes:
            answer = client.request(method, path, json=body, headers=headers)
            assert_problem(answer, 401)
            assert answer.headers["www-authenticate"] == "APIKey"
        client.headers["X-API-Key"] = API_KEY
    assert client.get(f"/lists/{list_id}/items", headers={"X-API-Key": ""}).status_code == 200
    assert client.get(f"/lists/{list_id}/items/{item_id}").json()["done"] is False


def test_the_document_says_which_routes_need_the_key() -> None:
    document = app.openapi()
    assert document["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Needed to create, change or delete lists and items.",
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            writes = method in ("post", "patch", "delete")
            expected: list[dict[str, list[str]]] | None = [{"APIKeyHeader": []}] if writes else None
            assert operation.get("security") == expected, (method, path)
