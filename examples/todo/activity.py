"""The activity log: written by a background task after a response, read at ``/activity``."""

from __future__ import annotations

from duoweb import Router
from examples.todo.common import Page
from examples.todo.db import ConnectionPool, Db, insert
from examples.todo.models import Activity, ActivityPage

router = Router(prefix="/activity", tags=["activity"])


def record_activity(pool: ConnectionPool, action: str, detail: str) -> None:
    """Append one entry to the activity log (run as a background task, after the response)."""
    with pool.transaction() as db:
        insert(db, "INSERT INTO activity (action, detail) VALUES (?, ?)", (action, detail))


@router.get("", summary="What happened, newest first")
def list_activity(db: Db, page: Page) -> ActivityPage:
    """One page of the activity log, newest first."""
    total = db.execute("SELECT COUNT(*) FROM activity").fetchone()[0]
    rows = db.execute(
        "SELECT id, action, detail FROM activity ORDER BY id DESC LIMIT ? OFFSET ?",
        (page.limit, page.offset),
    )
    entries = [Activity(id=row["id"], action=row["action"], detail=row["detail"]) for row in rows]
    return ActivityPage(activity=entries, total=total, limit=page.limit, offset=page.offset)
