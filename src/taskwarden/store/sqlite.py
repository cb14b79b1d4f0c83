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
from taskwarden.store.schema import MIGRATIONS, render
from taskwarden.store.sql import SqlStore

#: How this backend spells the schema's types (see :mod:`taskwarden.store.schema`).
TYPES = {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL", "bigint": "INTEGER"}



def integrity(conn: sqlite3.Connection) -> str:
    """SQLite's own verdict on a database file: ``"ok"`` or the first problems it found."""
    return conn.execute("PRAGMA integrity_check").fetchone()[0]


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
                for statement in render(script, **TYPES):
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
                verdict = integrity(copy)
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
