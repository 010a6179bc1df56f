"""The ``/lists`` routes: create, page through, read, rename and delete todo lists."""

from __future__ import annotations

from msgspec import UNSET

from duoweb import Depends, Router
from examples.todo.auth import require_writer
from examples.todo.common import ExistingList, Page
from examples.todo.db import Db, insert
from examples.todo.models import ListChanges, ListPage, NewList, TodoList

router = Router(prefix="/lists", tags=["lists"])

# Handlers get their list through find_list (ExistingList) rather than taking list_id
# themselves, so the templates spell its converter out: {list_id:int}.


@router.post("", dependencies=[Depends(require_writer)], status_code=201, summary="Create a list")
def create_list(new: NewList, db: Db) -> TodoList:
    """Create an empty todo list."""
    list_id = insert(db, "INSERT INTO lists (title) VALUES (?)", (new.title,))
    return TodoList(id=list_id, title=new.title)


@router.get("", summary="List the lists")
def list_lists(db: Db, page: Page) -> ListPage:
    """One page of todo lists, oldest first."""
    total = db.execute("SELECT COUNT(*) FROM lists").fetchone()[0]
    rows = db.execute(
        "SELECT id, title FROM lists ORDER BY id LIMIT ? OFFSET ?", (page.limit, page.offset)
    )
    lists = [TodoList(id=row["id"], title=row["title"]) for row in rows]
    return ListPage(lists=lists, total=total, limit=page.limit, offset=page.offset)


@router.get("/{list_id:int}", summary="Read a list")
def get_list(todo_list: ExistingList) -> TodoList:
    """One todo list."""
    return todo_list


@router.patch("/{list_id:int}", dependencies=[Depends(require_writer)], summary="Rename a list")
def update_list(todo_list: ExistingList, patch: ListChanges, db: Db) -> TodoList:
    """Change the fields sent; a field left out keeps its value."""
    if patch.title is UNSET:
        return todo_list
    db.execute("UPDATE lists SET title = ? WHERE id = ?", (patch.title, todo_list.id))
    return TodoList(id=todo_list.id, title=patch.title)


@router.delete("/{list_id:int}", dependencies=[Depends(require_writer)], summary="Delete a list")
def delete_list(todo_list: ExistingList, db: Db) -> None:
    """Delete a list and all of its items (204 No Content)."""
    db.execute("DELETE FROM lists WHERE id = ?", (todo_list.id,))
