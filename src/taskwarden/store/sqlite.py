"""The embedded store: one SQLite file in WAL mode.

Durability choice: ``synchronous=NORMAL`` by default. In WAL mode a commit
is written to the WAL file before the call returns, so an acknowledged
enqueue survives ``kill -9`` of any process; only an OS crash or power loss
can take the last transactions. ``sqlite_synchronous = "FULL"`` fsyncs each
commit and survives power loss too, at a measured cost (see README).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taskwarden.errors import StoreError
from taskwarden.store.sql import SqlStore

MIGRATIONS: list[str] = [
    # 1: tasks, workers, events
    """
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        action TEXT NOT NULL,
        params TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        timeout_s REAL NOT NULL,
        idempotency_key TEXT UNIQUE,
        canary INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_deadline REAL,
        not_before REAL NOT NULL,
        result TEXT,
        error_class TEXT,
        error_message TEXT,
        enqueued_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL
    );
    CREATE INDEX ix_tasks_ready ON tasks (state, priority DESC, id);
    CREATE INDEX ix_tasks_lease ON tasks (state, lease_owner);
    CREATE INDEX ix_tasks_deadline ON tasks (state, lease_deadline);
    CREATE INDEX ix_tasks_finished ON tasks (finished_at);
    CREATE INDEX ix_tasks_action ON tasks (action, id);
    CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL DEFAULT 'worker',
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        status TEXT NOT NULL,
        current_task INTEGER,
        started_at REAL NOT NULL,
        last_heartbeat REAL NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX ix_events_kind ON events (kind, id);
    CREATE INDEX ix_events_at ON events (at);
    """,
    # 2: the monitor's samples and alerts
    """
    CREATE TABLE samples (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX ix_samples_kind_at ON samples (kind, at);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at REAL NOT NULL,
        fired_at REAL,
        resolved_at REAL,
        value REAL,
        threshold REAL,
        summary TEXT NOT NULL,
        detail TEXT NOT NULL,
        history TEXT NOT NULL
    );
    CREATE INDEX ix_alerts_state ON alerts (state, name);
    CREATE INDEX ix_alerts_started ON alerts (started_at);
    CREATE INDEX ix_tasks_finished_action ON tasks (finished_at, action)
    """,
]


class SqliteStore(SqlStore):
    """SQLite backend. One connection per process, serialised by a lock."""

    def __init__(self, path: Path | str, synchronous: str = "NORMAL") -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None,
                                         check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        with self._tx() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = cur.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] or 0
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in filter(str.strip, script.split(";")):
                    cur.execute(statement)
                cur.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"SQLite: {exc}") from exc
                raise
            finally:
                cur.close()

    def backup(self, target: Path | str) -> Path:
        """Write a consistent copy of the live database to ``target``; the path.

        SQLite's online backup API copies every page under one read
        transaction, so writers in other processes may carry on and the copy
        is a single point in time. The copy is integrity-checked before it is
        trusted; a bad copy raises :class:`StoreError`.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            copy = sqlite3.connect(str(target))
            try:
                with self._lock:
                    self._conn.backup(copy)
                verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot back up {self.path} to {target}: {exc}") from exc
        if verdict != "ok":
            raise StoreError(f"backup {target} failed its integrity check: {verdict}")
        return target

    def close(self) -> None:
        with self._lock:
            self._conn.close()
