"""The schema, written once for every SQL backend.

Migrations are numbered by their place in :data:`MIGRATIONS`; a backend
renders each with :func:`render` (its own id, float and big-integer types)
and records the version it reached in ``schema_version``.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: tasks, workers, events
    """
    CREATE TABLE tasks (
        id {serial},
        action TEXT NOT NULL,
        params TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        timeout_s {real} NOT NULL,
        idempotency_key TEXT UNIQUE,
        canary INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_deadline {real},
        not_before {real} NOT NULL,
        result TEXT,
        error_class TEXT,
        error_message TEXT,
        enqueued_at {real} NOT NULL,
        started_at {real},
        finished_at {real}
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
        current_task {bigint},
        started_at {real} NOT NULL,
        last_heartbeat {real} NOT NULL
    );
    CREATE TABLE events (
        id {serial},
        at {real} NOT NULL,
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
        id {serial},
        at {real} NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX ix_samples_kind_at ON samples (kind, at);
    CREATE TABLE alerts (
        id {serial},
        name TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at {real} NOT NULL,
        fired_at {real},
        resolved_at {real},
        value {real},
        threshold {real},
        summary TEXT NOT NULL,
        detail TEXT NOT NULL,
        history TEXT NOT NULL
    );
    CREATE INDEX ix_alerts_state ON alerts (state, name);
    CREATE INDEX ix_alerts_started ON alerts (started_at);
    CREATE INDEX ix_tasks_finished_action ON tasks (finished_at, action)
    """,
]


def render(script: str, serial: str, real: str, bigint: str) -> list[str]:
    """The statements of one migration in a backend's types."""
    text = script.format(serial=serial, real=real, bigint=bigint)
    return [statement for statement in text.split(";") if statement.strip()]
