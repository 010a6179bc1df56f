"""What several of the todo API's routers share: pagination and finding rows or a 404."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Annotated

from duoweb import Depends, HTTPError, Query
from examples.todo.db import Db
from examples.todo.models import Item, TodoList

#: The largest offset accepted: far beyond any page a client walks to, well inside SQLite's
#: 64-bit integers.
MAX_OFFSET = 1_000_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class Pagination:
    """Which slice of a collection to return."""

    limit: int
    offset: int


def pagination(
    limit: Annotated[int, Query(ge=1, le=100, description="Most results to return.")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many results to skip.")] = 0,
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
