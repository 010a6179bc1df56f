"""SQLite storage for the todo API: the schema, and connections held for the app's life.

The database file is ``$TODO_DB``, or ``todo.sqlite3`` in the working directory. The app's
lifespan opens a small pool of connections in each worker process and closes them at
shutdown; each request borrows one, so several workers (processes or threads) can share one
file while SQLite serializes the writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from duoweb import App, AppState, Depends

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
CREATE TABLE IF NOT EXISTS activity (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
"""


def database_path() -> str:
    """Where the database file is: ``$TODO_DB``, else ``todo.sqlite3`` in the working dir."""
    return os.environ.get("TODO_DB") or "todo.sqlite3"


def connect(path: str) -> sqlite3.Connection:
    """Open a connection with rows addressable by column name and foreign keys enforced."""
    # A connection is used by one request at a time, but under ASGI a sync dependency and a
    # sync handler may run on different pool threads, so it must not be tied to one thread.
    db = sqlite3.connect(path, timeout=10, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    return db


@dataclass
class ConnectionPool:
    """Connections to one database file, reused across requests and closed at shutdown.

    Borrowing never waits: an idle connection is reused, otherwise a new one is opened, so
    the pool grows to the number of requests a worker serves at once.
    """

    path: str
    idle: list[sqlite3.Connection] = field(default_factory=list)
    opened: list[sqlite3.Connection] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection for one unit of work: committed if it succeeds, else rolled back."""
        with self.lock:
            db = self.idle.pop() if self.idle else None
        if db is None:
            db = connect(self.path)
            with self.lock:
                self.opened.append(db)
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        else:
            db.commit()
        finally:
            with self.lock:
                self.idle.append(db)

    def close(self) -> None:
        """Close every connection the pool opened."""
        with self.lock:
            for db in self.opened:
                db.close()
            self.opened.clear()
            self.idle.clear()


@dataclass(frozen=True)
class TodoState:
    """What the app holds for its lifetime: handlers receive it as ``State``."""

    pool: ConnectionPool


@contextmanager
def lifespan(app: App) -> Iterator[TodoState]:
    """Create the schema and open the pool at startup; close every connection at shutdown."""
    pool = ConnectionPool(database_path())
    with pool.transaction() as db:
        db.executescript(SCHEMA)
    try:
        yield TodoState(pool=pool)
    finally:
        pool.close()


#: A handler or dependency parameter annotated ``State`` receives the app's TodoState.
State = AppState[TodoState]


def get_db(state: State) -> Iterator[sqlite3.Connection]:
    """The request's connection, borrowed from the pool for the request's duration."""
    with state.pool.transaction() as db:
        yield db


def insert(db: sqlite3.Connection, sql: str, parameters: tuple[object, ...]) -> int:
    """Run one INSERT and return the id of the row it created."""
    row_id = db.execute(sql, parameters).lastrowid
    assert row_id is not None  # always set after a successful single-row INSERT
    return row_id


#: A handler parameter annotated ``Db`` receives the request's connection.
Db = Annotated[sqlite3.Connection, Depends(get_db)]
