"""Stores: where tasks, workers and events live. ``open_store`` picks the backend."""

from __future__ import annotations

from taskwarden.config import Config
from taskwarden.store.base import Event, Outcome, QueueFull, Store, Task, TaskSpec, WorkerInfo

__all__ = ["Event", "Outcome", "QueueFull", "Store", "Task", "TaskSpec", "WorkerInfo", "open_store"]


def open_store(config: Config) -> Store:
    """The store the configuration names: embedded SQLite, or PostgreSQL by URL."""
    if config.store == "sqlite":
        from taskwarden.store.sqlite import SqliteStore

        return SqliteStore(config.data_dir / "taskwarden.db", config.sqlite_synchronous)
    from taskwarden.store.postgres import PostgresStore

    return PostgresStore(config.store)
