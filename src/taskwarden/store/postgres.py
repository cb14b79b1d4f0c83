"""The shared store: PostgreSQL, for more than one machine.

Connections come from a small :mod:`psycopg_pool` pool rather than one
connection behind the store lock. Leasing relies on ``FOR UPDATE SKIP
LOCKED`` letting concurrent transactions pass each other; a single guarded
connection would serialise every server thread again and throw that away.
The pool also heals: a connection broken by a server restart is found by the
pool's check before use and replaced, so a queue that runs for days does not
need restarting after a database failover.

The schema mirrors SQLite's (same tables, columns and indexes; ``BIGSERIAL``
ids, ``DOUBLE PRECISION`` times, JSON in ``TEXT``) so the shared SQL in
:mod:`taskwarden.store.sql` runs unchanged apart from ``?`` becoming ``%s``.
Migrations run under a transaction-scoped advisory lock, so two processes
starting at once apply each migration exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from taskwarden.errors import StoreError
from taskwarden.store.schema import MIGRATIONS, render
from taskwarden.store.sql import SqlStore

#: How this backend spells the schema's types (see :mod:`taskwarden.store.schema`).
TYPES = {"serial": "BIGSERIAL PRIMARY KEY", "real": "DOUBLE PRECISION", "bigint": "BIGINT"}

#: Key of the advisory lock that serialises migrations ("taskwarden" in ASCII, truncated).
MIGRATION_LOCK_KEY = 0x7461736B77617264



@lru_cache(maxsize=256)
def translate(text: str) -> str:
    """``?`` placeholders to psycopg's ``%s``; the shared SQL has no literal ``?`` or ``%``."""
    return text.replace("?", "%s")


class PostgresStore(SqlStore):
    """PostgreSQL backend over a pool of ``min_size``..``max_size`` connections.

    Each store method borrows one connection for one transaction (READ
    COMMITTED, the default), so methods may be called from many threads at
    once without the store lock.
    """

    lease_lock_clause = "FOR UPDATE SKIP LOCKED"
    row_lock_clause = "FOR UPDATE"

    def __init__(self, url: str, min_size: int = 1, max_size: int = 4,
                 connect_timeout_s: float = 10.0) -> None:
        super().__init__()
        self.url = url
        self._pool = ConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                                    timeout=connect_timeout_s,
                                    check=ConnectionPool.check_connection,
                                    kwargs={"autocommit": True},
                                    name="taskwarden-store")
        try:
            self._pool.open(wait=True, timeout=connect_timeout_s)
            self._migrate()
        except psycopg.Error as exc:
            self._pool.close()
            raise StoreError(f"cannot open PostgreSQL store {redact(url)}: {exc}") from exc
        except BaseException:
            self._pool.close()
            raise

    def _sql(self, text: str) -> str:
        return translate(text)

    def _migrate(self) -> None:
        """Bring the schema up to date; the advisory lock makes concurrent starts safe."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = cur.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in render(script, **TYPES):
                    cur.execute(statement)
                cur.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))

    def schema_version(self) -> int:
        """The highest migration applied; lets tests and ``status`` check the schema."""
        return self._query("SELECT max(version) FROM schema_version")[0][0] or 0

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Any]:
        """One pooled connection, one transaction: commit on success, roll back on error.

        Pooled connections are in autocommit mode, so ``conn.transaction()`` is
        the only BEGIN/COMMIT and a connection goes back to the pool idle.
        """
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL: {exc}") from exc

    def close(self) -> None:
        self._pool.close()


def redact(url: str) -> str:
    """The URL without its password, fit for an error message or a log."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "<unparsable URL>"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in info.items() if v is not None})
