"""The ``/lists/{list_id}/items`` routes: add, filter, read, change and delete items."""

from __future__ import annotations

from typing import Annotated

from duoweb import BackgroundTasks, Depends, HTTPError, Query, Router
from examples.todo.activity import record_activity
from examples.todo.auth import require_writer
from examples.todo.common import ExistingList, Page, find_item, item_from_row
from examples.todo.db import Db, State, insert
from examples.todo.models import Item, ItemChanges, ItemPage, NewItem, changes

router = Router(prefix="/lists/{list_id:int}/items", tags=["items"])


@router.post("", dependencies=[Depends(require_writer)], status_code=201, summary="Add an item")
def create_item(
    todo_list: ExistingList, new: NewItem, db: Db, state: State, tasks: BackgroundTasks
) -> Item:
    """Add an item to a list; the activity log records it after the response is sent."""
    item_id = insert(
        db,
        "INSERT INTO items (list_id, title, notes, done) VALUES (?, ?, ?, ?)",
        (todo_list.id, new.title, new.notes, new.done),
    )
    tasks.add(record_activity, state.pool, "item added", f"{new.title!r} to {todo_list.title!r}")
    return Item(id=item_id, list_id=todo_list.id, title=new.title, notes=new.notes, done=new.done)


@router.get("", summary="Find items")
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


@router.get("/{item_id}", summary="Read an item")
def get_item(todo_list: ExistingList, item_id: int, db: Db) -> Item:
    """One item of a list."""
    return find_item(db, todo_list.id, item_id)


@router.patch("/{item_id}", dependencies=[Depends(require_writer)], summary="Change an item")
def update_item(todo_list: ExistingList, item_id: int, patch: ItemChanges, db: Db) -> Item:
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


@router.delete("/{item_id}", dependencies=[Depends(require_writer)], summary="Delete an item")
def delete_item(todo_list: ExistingList, item_id: int, db: Db) -> None:
    """Delete one item (204 No Content)."""
    deleted = db.execute(
        "DELETE FROM items WHERE id = ? AND list_id = ?", (item_id, todo_list.id)
    ).rowcount
    if not deleted:
        raise HTTPError(404, f"Todo list {todo_list.id} has no item {item_id}.")
