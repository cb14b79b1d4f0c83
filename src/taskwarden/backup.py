"""Online backup of the embedded store and a verified restore.

A backup uses SQLite's online backup API, so the stack keeps running while
it is taken and the copy is one point in time; it is integrity-checked
before it is kept. A restore is refused while anything still uses the
store (the warden lock is held or a server answers), checks the file is a
sound taskwarden database, keeps the current one aside, swaps the file in,
and opens it once through the store to prove it works.

PostgreSQL has its own tools for this (``pg_dump``/``pg_restore``); taskwarden
does not wrap them.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from taskwarden.config import Config
from taskwarden.errors import StoreError, TaskwardenError
from taskwarden.store.sqlite import SqliteStore, integrity


@dataclass(frozen=True)
class RestoreResult:
    restored: Path
    previous: Path | None
    tasks: int


def db_path(config: Config) -> Path:
    return config.data_dir / "taskwarden.db"


def _require_sqlite(config: Config) -> None:
    if config.store != "sqlite":
        raise TaskwardenError("backup and restore cover the embedded SQLite store; for PostgreSQL"
                              " use pg_dump and pg_restore")


def backup(config: Config, target: Path | None = None) -> Path:
    """Copy the live store to ``target`` (default ``backups/taskwarden-<UTC time>.db``)."""
    _require_sqlite(config)
    if not db_path(config).exists():
        raise TaskwardenError(f"no store at {db_path(config)} to back up")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = target or config.data_dir / "backups" / f"taskwarden-{stamp}.db"
    store = SqliteStore(db_path(config), config.sqlite_synchronous)
    try:
        return store.backup(target)
    finally:
        store.close()


def verify(file: Path) -> int:
    """The number of tasks in a sound taskwarden database file; TaskwardenError otherwise."""
    if not file.is_file():
        raise TaskwardenError(f"{file} does not exist")
    try:
        conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            verdict = integrity(conn)
            version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            tasks = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise TaskwardenError(f"{file} is not a taskwarden database: {exc}") from exc
    if verdict != "ok":
        raise TaskwardenError(f"{file} failed its integrity check: {verdict}")
    if not version:
        raise TaskwardenError(f"{file} has no schema version: not a taskwarden database")
    return tasks


def restore(config: Config, file: Path, stack_running: bool) -> RestoreResult:
    """Replace the store with ``file`` after checking it; the current store is kept aside."""
    _require_sqlite(config)
    if stack_running:
        raise TaskwardenError("the stack is running on this data directory: 'taskwarden down' first")
    tasks = verify(file)
    live = db_path(config)
    previous = None
    if live.exists():
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        previous = backup(config, config.data_dir / "backups" / f"pre-restore-{stamp}.db")
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    live.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(file, live)
    try:
        SqliteStore(live, config.sqlite_synchronous).close()  # opens, migrates if older, proves it
    except StoreError as exc:
        raise TaskwardenError(f"restored file does not open as a store: {exc}") from exc
    return RestoreResult(restored=live, previous=previous, tasks=tasks)
