"""The todo API: lists of items, with filtering, pagination and partial updates.

Reading is open; creating, changing and deleting need the API key in ``X-API-Key``
(examples/todo/auth.py). One App, served either way::

    gunicorn -k sync -w 2 examples.todo.app:app     # WSGI
    hypercorn -w 2 examples.todo.app:app.asgi       # ASGI

The handlers are plain ``def`` because ``sqlite3`` blocks: under WSGI they run on the
worker's thread, under ASGI in duoweb's thread pool, never on the event loop.
"""

import dataclasses
import sqlite3
from typing import Annotated

from msgspec import UNSET

from duoweb import App, Depends, HTTPError, Query
from examples.todo.auth import Writer
from examples.todo.db import Db, create_schema, insert
from examples.todo.models import (
    Item,
    ItemChanges,
    ItemPage,
    ListChanges,
    ListPage,
    NewItem,
    NewList,
    TodoList,
    changes,
)

app = App(
    title="Todo API",
    version="1.0.0",
    description="Todo lists and their items, stored in SQLite.",
)
app.on_startup(create_schema)


# --- shared parameters, as dependencies ---------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Pagination:
    """Which slice of a collection to return."""

    limit: int
    offset: int


def pagination(
    limit: Annotated[int, Query(ge=1, le=100, description="Most results to return.")] = 20,
    offset: Annotated[
        int, Query(ge=0, le=1_000_000_000, description="How many results to skip.")
    ] = 0,
) -> Pagination:
    """``?limit=&offset=``, validated the same way for every paginated route."""
    return Pagination(limit, offset)


def find_list(list_id: int, db: Db) -> TodoList:
    """The list named by the path's ``{list_id}``, or a 404 problem."""
    row = db.execute("SELECT id, title FROM lists WHERE id = ?", (list_id,)).fetchone()
    if row is None:
        raise HTTPError(404, f"Todo list {list_id} does not exist.")
    return TodoList(id=row["id"], title=row["title"])


Page = Annotated[Pagination, Depends(pagination)]
ExistingList = Annotated[TodoList, Depends(find_list)]


def item_from_row(row: sqlite3.Row) -> Item:
    """An Item from a row of the ``items`` table."""
    return Item(
        id=row["id"],
        list_id=row["list_id"],
        title=row["title"],
        notes=row["notes"],
        done=bool(row["done"]),
    )


def find_item(db: sqlite3.Connection, list_id: int, item_id: int) -> Item:
    """Item ``item_id`` of list ``list_id``, or a 404 problem."""
    row = db.execute(
        "SELECT * FROM items WHERE id = ? AND list_id = ?", (item_id, list_id)
    ).fetchone()
    if row is None:
        raise HTTPError(404, f"Todo list {list_id} has no item {item_id}.")
    return item_from_row(row)


# --- routes -------------------------------------------------------------------------------
# Handlers get their list through find_list (ExistingList) rather than taking list_id
# themselves, so the templates spell its converter out: {list_id:int}.


@app.get("/", summary="Where to start")
def index() -> dict[str, str]:
    """Links to the collections and to the API's documentation."""
    return {
        "lists": app.url_for("list_lists"),
        "docs": app.url_for("docs_page"),
        "openapi": app.url_for("openapi_document"),
    }


@app.post("/lists", status_code=201, tags=["lists"], summary="Create a list")
def create_list(new: NewList, db: Db, _writer: Writer) -> TodoList:
    """Create an empty todo list."""
    list_id = insert(db, "INSERT INTO lists (title) VALUES (?)", (new.title,))
    return TodoList(id=list_id, title=new.title)


@app.get("/lists", tags=["lists"], summary="List the lists")
def list_lists(db: Db, page: Page) -> ListPage:
    """One page of todo lists, oldest first."""
    total = db.execute("SELECT COUNT(*) FROM lists").fetchone()[0]
    rows = db.execute(
        "SELECT id, title FROM lists ORDER BY id LIMIT ? OFFSET ?", (page.limit, page.offset)
    )
    lists = [TodoList(id=row["id"], title=row["title"]) for row in rows]
    return ListPage(lists=lists, total=total, limit=page.limit, offset=page.offset)


@app.get("/lists/{list_id:int}", tags=["lists"], summary="Read a list")
def get_list(todo_list: ExistingList) -> TodoList:
    """One todo list."""
    return todo_list


@app.patch("/lists/{list_id:int}", tags=["lists"], summary="Rename a list")
def update_list(todo_list: ExistingList, patch: ListChanges, db: Db, _writer: Writer) -> TodoList:
    """Change the fields sent; a field left out keeps its value."""
    if patch.title is UNSET:
        return todo_list
    db.execute("UPDATE lists SET title = ? WHERE id = ?", (patch.title, todo_list.id))
    return TodoList(id=todo_list.id, title=patch.title)


@app.delete("/lists/{list_id:int}", tags=["lists"], summary="Delete a list")
def delete_list(todo_list: ExistingList, db: Db, _writer: Writer) -> None:
    """Delete a list and all of its items (204 No Content)."""
    db.execute("DELETE FROM lists WHERE id = ?", (todo_list.id,))


@app.post("/lists/{list_id:int}/items", status_code=201, tags=["items"], summary="Add an item")
def create_item(todo_list: ExistingList, new: NewItem, db: Db, _writer: Writer) -> Item:
    """Add an item to a list."""
    item_id = insert(
        db,
        "INSERT INTO items (list_id, title, notes, done) VALUES (?, ?, ?, ?)",
        (todo_list.id, new.title, new.notes, new.done),
    )
    return Item(id=item_id, list_id=todo_list.id, title=new.title, notes=new.notes, done=new.done)


@app.get("/lists/{list_id:int}/items", tags=["items"], summary="Find items")
def list_items(
    todo_list: ExistingList,
    db: Db,
    page: Page,
    done: Annotated[bool | None, Query(description="Only done (true) or open (false).")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Text the title contains.")
    ] = None,
) -> ItemPage:
    """One page of a list's items, oldest first, filtered by ``done`` and ``q``."""
    conditions = ["list_id = ?"]
    values: list[object] = [todo_list.id]
    if done is not None:
        conditions.append("done = ?")
        values.append(done)
    if q is not None:  # a case-insensitive substring match (ASCII letters), no LIKE wildcards
        conditions.append("instr(lower(title), lower(?)) > 0")
        values.append(q)
    where = " AND ".join(conditions)
    total = db.execute(f"SELECT COUNT(*) FROM items WHERE {where}", values).fetchone()[0]
    rows = db.execute(
        f"SELECT * FROM items WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
        [*values, page.limit, page.offset],
    )
    items = [item_from_row(row) for row in rows]
    return ItemPage(items=items, total=total, limit=page.limit, offset=page.offset)


@app.get("/lists/{list_id:int}/items/{item_id}", tags=["items"], summary="Read an item")
def get_item(todo_list: ExistingList, item_id: int, db: Db) -> Item:
    """One item of a list."""
    return find_item(db, todo_list.id, item_id)


@app.patch("/lists/{list_id:int}/items/{item_id}", tags=["items"], summary="Change an item")
def update_item(
    todo_list: ExistingList, item_id: int, patch: ItemChanges, db: Db, _writer: Writer
) -> Item:
    """Change the fields sent (e.g. ``{"done": true}``); the others keep their values."""
    sent = changes(patch)
    if sent:
        # Column names come from ItemChanges' fields (unknown fields are refused), and the
        # values are bound parameters: only the columns the client sent are written.
        assignments = ", ".join(f"{column} = :{column}" for column in sent)
        db.execute(
            f"UPDATE items SET {assignments} WHERE id = :item_id AND list_id = :list_id",
            {**sent, "item_id": item_id, "list_id": todo_list.id},
        )
    return find_item(db, todo_list.id, item_id)


@app.delete("/lists/{list_id:int}/items/{item_id}", tags=["items"], summary="Delete an item")
def delete_item(todo_list: ExistingList, item_id: int, db: Db, _writer: Writer) -> None:
    """Delete one item (204 No Content)."""
    deleted = db.execute(
        "DELETE FROM items WHERE id = ? AND list_id = ?", (item_id, todo_list.id)
    ).rowcount
    if not deleted:
        raise HTTPError(404, f"Todo list {todo_list.id} has no item {item_id}.")
