"""Test helpers for running one suite against every store backend.

Kept apart from the tests so other suites (server, worker) can open the same
backends, and so ``multiprocessing`` children can import the leasing loop by
module name.

The PostgreSQL server comes from ``TASKWARDEN_TEST_PG_URL`` (default: the
local trust-auth server). Each test session gets its own throw-away database,
so parallel runs and leftovers from a crashed run never meet.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from taskwarden.store.base import Store
from taskwarden.store.postgres import PostgresStore
from taskwarden.store.sql import SqlStore
from taskwarden.store.sqlite import SqliteStore

PG_ADMIN_URL = os.environ.get("TASKWARDEN_TEST_PG_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgres")


def pg_available(admin_url: str = PG_ADMIN_URL) -> str | None:
    """``None`` when the server answers, else the reason it does not (for the failure message)."""
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {admin_url}: {exc}"


class PgDatabase:
    """A database made for one test session and dropped after it."""

    def __init__(self, admin_url: str = PG_ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.name = f"taskwarden_test_{secrets.token_hex(6)}"
        self.url = urlsplit(admin_url)._replace(path=f"/{self.name}").geturl()

    def create(self) -> PgDatabase:
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        return self

    def drop(self) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(self.name)))

    def _admin(self, statement: sql.Composed) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)


def open_backend(kind: str, sqlite_path: Path, pg_url: str) -> SqlStore:
    """A fresh store instance of that kind; instances of one kind share their data."""
    if kind == "sqlite":
        return SqliteStore(sqlite_path)
    return PostgresStore(pg_url)


def wipe(store: SqlStore) -> None:
    """Empty every table and restart ids at 1, so each test (or example) starts clean."""
    with store._tx() as cur:
        if isinstance(store, PostgresStore):
            cur.execute("TRUNCATE tasks, workers, events, samples, alerts RESTART IDENTITY")
        else:
            for table in ("tasks", "workers", "events", "samples", "alerts", "sqlite_sequence"):
                cur.execute(f"DELETE FROM {table}")


def lease_until_empty(store: Store, worker_id: str, batch: int, now: float) -> list[int]:
    """Lease in a loop until nothing is handed out; the ids this holder received.

    An empty answer ends the loop: in these tests leases are never given back,
    so an empty lease means every remaining task is already held elsewhere.
    """
    got: list[int] = []
    while tasks := store.lease(worker_id, batch, 60.0, now):
        got.extend(t.id for t in tasks)
    return got


def lease_in_process(args: tuple[str, str, int, float]) -> list[int]:
    """Entry point of a child process: open its own SQLite store and drain the queue."""
    path, worker_id, batch, now = args
    store = SqliteStore(path)
    try:
        return lease_until_empty(store, worker_id, batch, now)
    finally:
        store.close()
