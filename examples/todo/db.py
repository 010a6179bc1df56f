"""SQLite storage for the todo API: the schema and a connection per request.

The database file is ``$TODO_DB``, or ``todo.sqlite3`` in the working directory. Each
request gets its own connection, so several server workers (processes or threads) can share
one file; SQLite serializes the writes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Annotated

from duoweb import Depends

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS lists (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    title   TEXT NOT NULL,
    notes   TEXT NOT NULL DEFAULT '',
    done    INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1))
);
CREATE INDEX IF NOT EXISTS items_by_list ON items (list_id, id);
"""


def database_path() -> str:
    """Where the database file is: ``$TODO_DB``, else ``todo.sqlite3`` in the working dir."""
    return os.environ.get("TODO_DB") or "todo.sqlite3"


def connect() -> sqlite3.Connection:
    """Open a connection with rows addressable by column name and foreign keys enforced."""
    # Under ASGI a sync dependency and a sync handler may run on different pool threads; the
    # connection is still used by one request at a time, so sharing it across threads is safe.
    db = sqlite3.connect(database_path(), timeout=10, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    return db


def create_schema() -> None:
    """Create the tables if they do not exist yet (run once per worker at startup)."""
    with closing(connect()) as db:
        db.executescript(SCHEMA)


def get_db() -> Iterator[sqlite3.Connection]:
    """One connection per request: committed if the handler succeeds, else rolled back."""
    db = connect()
    try:
        yield db
    except Exception:
        db.rollback()
        raise
    else:
        db.commit()
    finally:
        db.close()


def insert(db: sqlite3.Connection, sql: str, parameters: tuple[object, ...]) -> int:
    """Run one INSERT and return the id of the row it created."""
    row_id = db.execute(sql, parameters).lastrowid
    assert row_id is not None  # always set after a successful single-row INSERT
    return row_id


#: A handler parameter annotated ``Db`` receives the request's connection.
Db = Annotated[sqlite3.Connection, Depends(get_db)]
