"""The store logic shared by every SQL backend.

Backends supply a connection, a transaction context and a few dialect
details (schema text, the row lock that makes leasing atomic); the queries
here are written once in the subset SQLite and PostgreSQL share, with ``?``
placeholders that a backend may translate.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from taskwarden import states
from taskwarden.errors import Conflict, NotFound
from taskwarden.store.base import Event, Outcome, QueueFull, Task, TaskSpec, WorkerInfo
from taskwarden.store.sql_monitor import MonitorQueries

TASK_COLUMNS = (
    "id, action, params, priority, state, attempts, max_attempts, timeout_s, idempotency_key,"
    " canary, lease_owner, lease_deadline, not_before, result, error_class, error_message,"
    " enqueued_at, started_at, finished_at"
)
WORKER_COLUMNS = "id, role, host, pid, slot, status, current_task, started_at, last_heartbeat"
RetryDelay = Callable[[int], float]


def task_from_row(row: Any) -> Task:
    (tid, action, params, priority, state, attempts, max_attempts, timeout_s, key, canary,
     owner, deadline, not_before, result, error_class, error_message, enqueued, started,
     finished) = row
    return Task(
        id=tid, action=action, params=json.loads(params), priority=priority, state=state,
        attempts=attempts, max_attempts=max_attempts, timeout_s=float(timeout_s),
        idempotency_key=key, canary=bool(canary), lease_owner=owner, lease_deadline=deadline,
        not_before=not_before, result=json.loads(result) if result is not None else None,
        error_class=error_class, error_message=error_message, enqueued_at=enqueued,
        started_at=started, finished_at=finished,
    )


def worker_from_row(row: Any) -> WorkerInfo:
    wid, role, host, pid, slot, status, current, started, beat = row
    return WorkerInfo(id=wid, role=role, host=host, pid=pid, slot=slot, status=status, current_task=current,
                      started_at=started, last_heartbeat=beat)


def no_delay(attempts: int) -> float:
    return 0.0


class SqlStore(MonitorQueries):
    """A :class:`taskwarden.store.base.Store` over a DB-API connection."""

    #: Appended to the ready-task subquery of ``lease``; PostgreSQL sets
    #: ``FOR UPDATE SKIP LOCKED`` so concurrent leasers skip each other's rows.
    lease_lock_clause = ""
    #: Appended to the selects that pick running tasks to finish, release or
    #: requeue; PostgreSQL sets ``FOR UPDATE`` so a row changed by a concurrent
    #: transaction (another server's sweep, a new lease) is re-checked before it
    #: is touched. SQLite needs neither: ``BEGIN IMMEDIATE`` serialises writers.
    row_lock_clause = ""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # -- backend hooks -------------------------------------------------
    def _tx(self, write: bool = True) -> AbstractContextManager[Any]:
        """A cursor inside one transaction; commit on success, roll back on error.

        ``write=False`` marks a read: SQLite then takes no write lock, so the
        monitor's reads never queue behind the server's writes.
        """
        raise NotImplementedError

    def _sql(self, text: str) -> str:
        return text

    def close(self) -> None:
        raise NotImplementedError

    def ping(self) -> None:
        self._query("SELECT 1")

    # -- helpers -------------------------------------------------------
    def _all(self, cur: Any, text: str, params: tuple[Any, ...] = ()) -> list[Any]:
        cur.execute(self._sql(text), params)
        return cur.fetchall()

    def _query(self, text: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._tx(write=False) as cur:
            return self._all(cur, text, params)

    # -- tasks ---------------------------------------------------------
    def enqueue(self, specs: list[TaskSpec], now: float, max_queue: int = 0) -> list[tuple[Task, bool]]:
        with self._tx() as cur:
            if max_queue > 0:
                queued = self._all(cur, "SELECT count(*) FROM tasks WHERE state = 'queued'")[0][0]
                if queued + len(specs) > max_queue:
                    raise QueueFull(f"queue holds {queued} tasks; limit is {max_queue}")
            return [self._insert(cur, spec, now) for spec in specs]

    def _insert(self, cur: Any, spec: TaskSpec, now: float) -> tuple[Task, bool]:
        rows = self._all(
            cur,
            "INSERT INTO tasks (action, params, priority, state, attempts, max_attempts, timeout_s,"
            " idempotency_key, canary, not_before, enqueued_at)"
            " VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING {TASK_COLUMNS}",
            (spec.action, json.dumps(spec.params), spec.priority, spec.max_attempts,
             spec.timeout_s, spec.idempotency_key, int(spec.canary), now, now),
        )
        if rows:
            return task_from_row(rows[0]), True
        existing = self._all(cur, f"SELECT {TASK_COLUMNS} FROM tasks WHERE idempotency_key = ?",
                             (spec.idempotency_key,))
        return task_from_row(existing[0]), False

    def get(self, task_id: int) -> Task:
        rows = self._query(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?", (task_id,))
        if not rows:
            raise NotFound(f"no task {task_id}")
        return task_from_row(rows[0])

    def list_tasks(self, state: str | None = None, action: str | None = None,
                   limit: int = 100) -> list[Task]:
        where, params = [], []
        if state:
            where.append("state = ?")
            params.append(state)
        if action:
            where.append("action = ?")
            params.append(action)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(f"SELECT {TASK_COLUMNS} FROM tasks {clause} ORDER BY id DESC LIMIT ?",
                           (*params, limit))
        return [task_from_row(r) for r in rows]

    def cancel(self, task_id: int, now: float) -> Task:
        with self._tx() as cur:
            rows = self._all(
                cur,
                "UPDATE tasks SET state = 'canceled', finished_at = ? WHERE id = ? AND state = 'queued'"
                f" RETURNING {TASK_COLUMNS}", (now, task_id))
            if rows:
                return task_from_row(rows[0])
            found = self._all(cur, "SELECT state FROM tasks WHERE id = ?", (task_id,))
        if not found:
            raise NotFound(f"no task {task_id}")
        raise Conflict(f"task {task_id} is {found[0][0]}; only a queued task can be canceled")

    def lease(self, worker_id: str, limit: int, lease_s: float, now: float) -> list[Task]:
        with self._tx() as cur:
            rows = self._all(
                cur,
                "UPDATE tasks SET state = 'running', lease_owner = ?, lease_deadline = ?,"
                " attempts = attempts + 1, started_at = ?"
                " WHERE id IN (SELECT id FROM tasks WHERE state = 'queued' AND not_before <= ?"
                f" ORDER BY priority DESC, id LIMIT ? {self.lease_lock_clause})"
                f" RETURNING {TASK_COLUMNS}",
                (worker_id, now + lease_s, now, now, limit))
        tasks = [task_from_row(r) for r in rows]
        return sorted(tasks, key=lambda t: (-t.priority, t.id))

    def extend_leases(self, worker_id: str, deadline: float, task_ids: list[int] | None = None) -> int:
        if task_ids is not None and not task_ids:
            return 0
        only = f" AND id IN ({', '.join(['?'] * len(task_ids))})" if task_ids else ""
        with self._tx() as cur:
            rows = self._all(cur, "UPDATE tasks SET lease_deadline = ? WHERE state = 'running'"
                                  f" AND lease_owner = ?{only} RETURNING id",
                             (deadline, worker_id, *(task_ids or ())))
        return len(rows)

    def finish(self, worker_id: str, outcomes: list[Outcome], now: float,
               retry_delay: RetryDelay | None = None) -> list[Task]:
        delay = retry_delay or no_delay
        done: list[Task] = []
        with self._tx() as cur:
            for outcome in outcomes:
                task = self._finish_one(cur, worker_id, outcome, now, delay)
                if task is not None:
                    done.append(task)
        return done

    def _finish_one(self, cur: Any, worker_id: str, outcome: Outcome, now: float,
                    delay: RetryDelay) -> Task | None:
        held = self._all(cur, "SELECT attempts, max_attempts FROM tasks WHERE id = ?"
                              f" AND state = 'running' AND lease_owner = ? {self.row_lock_clause}",
                         (outcome.task_id, worker_id))
        if not held:
            return None
        if outcome.ok:
            rows = self._all(
                cur,
                "UPDATE tasks SET state = 'succeeded', result = ?, error_class = NULL,"
                f" error_message = NULL, lease_deadline = NULL, finished_at = ? WHERE id = ?"
                f" RETURNING {TASK_COLUMNS}",
                (json.dumps(outcome.result), now, outcome.task_id))
            return task_from_row(rows[0])
        attempts, max_attempts = held[0]
        if outcome.retryable and attempts < max_attempts:
            state, finished, not_before = states.QUEUED, None, now + delay(attempts)
        else:
            state = states.DEAD if outcome.retryable else states.FAILED
            finished, not_before = now, now
        rows = self._all(
            cur,
            "UPDATE tasks SET state = ?, error_class = ?, error_message = ?, lease_deadline = NULL,"
            f" finished_at = ?, not_before = ? WHERE id = ? RETURNING {TASK_COLUMNS}",
            (state, outcome.error_class, outcome.error_message, finished, not_before,
             outcome.task_id))
        return task_from_row(rows[0])

    def release(self, worker_id: str, task_ids: list[int] | None = None,
                count_attempt: bool = False, now: float = 0.0) -> list[Task]:
        with self._tx() as cur:
            held = self._all(cur, "SELECT id FROM tasks WHERE state = 'running' AND lease_owner = ?"
                                  f" ORDER BY id {self.row_lock_clause}",
                             (worker_id,))
            ids = [r[0] for r in held if task_ids is None or r[0] in task_ids]
            return [self._give_back(cur, tid, count_attempt, now, "released") for tid in ids]

    def _give_back(self, cur: Any, task_id: int, count_attempt: bool, now: float,
                   reason: str) -> Task:
        """Return a running task to the queue, or to dead when its attempts are spent."""
        if not count_attempt:
            rows = self._all(cur, "UPDATE tasks SET state = 'queued', attempts = attempts - 1,"
                                  " lease_deadline = NULL WHERE id = ?"
                                  f" RETURNING {TASK_COLUMNS}", (task_id,))
            return task_from_row(rows[0])
        rows = self._all(
            cur,
            "UPDATE tasks SET lease_deadline = NULL,"
            " state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'dead' END,"
            " finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE ? END,"
            " error_class = 'LeaseLost', error_message = ?"
            f" WHERE id = ? RETURNING {TASK_COLUMNS}",
            (now, f"worker lost the task ({reason})", task_id))
        return task_from_row(rows[0])

    def requeue_expired(self, now: float) -> list[Task]:
        with self._tx() as cur:
            expired = self._all(cur, "SELECT id FROM tasks WHERE state = 'running'"
                                     f" AND lease_deadline < ? ORDER BY id {self.row_lock_clause}",
                                (now,))
            return [self._give_back(cur, r[0], True, now, "lease expired") for r in expired]

    # -- workers -------------------------------------------------------
    def heartbeat(self, worker: WorkerInfo, now: float) -> None:
        with self._tx() as cur:
            cur.execute(self._sql(
                f"INSERT INTO workers ({WORKER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                # A restarted process may reuse its id (same host and slot): take its new
                # pid and start time, or the warden would watch, and kill, a stale pid.
                " ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
                " current_task = excluded.current_task, last_heartbeat = excluded.last_heartbeat,"
                " role = excluded.role, host = excluded.host, pid = excluded.pid,"
                " slot = excluded.slot, started_at = CASE WHEN workers.pid = excluded.pid"
                " THEN workers.started_at ELSE excluded.started_at END"),
                (worker.id, worker.role, worker.host, worker.pid, worker.slot, worker.status,
                 worker.current_task, worker.started_at or now, now))

    def workers(self, role: str | None = "worker") -> list[WorkerInfo]:
        clause, params = ("WHERE role = ?", (role,)) if role else ("", ())
        rows = self._query(f"SELECT {WORKER_COLUMNS} FROM workers {clause}"
                           " ORDER BY last_heartbeat DESC", params)
        return [worker_from_row(r) for r in rows]

    def forget_workers(self, older_than: float) -> int:
        with self._tx() as cur:
            return len(self._all(cur, "DELETE FROM workers WHERE last_heartbeat < ? RETURNING id",
                                 (older_than,)))

    # -- events --------------------------------------------------------
    def record_event(self, kind: str, subject: str, detail: dict[str, Any], now: float) -> Event:
        with self._tx() as cur:
            rows = self._all(cur, "INSERT INTO events (at, kind, subject, detail) VALUES (?, ?, ?, ?)"
                                  " RETURNING id", (now, kind, subject, json.dumps(detail)))
        return Event(id=rows[0][0], at=now, kind=kind, subject=subject, detail=detail)

    def events(self, after_id: int = 0, limit: int = 100, kind: str | None = None) -> list[Event]:
        clause, params = ("AND kind = ?", (kind,)) if kind else ("", ())
        rows = self._query(f"SELECT id, at, kind, subject, detail FROM events WHERE id > ? {clause}"
                           " ORDER BY id LIMIT ?", (after_id, *params, limit))
        return [Event(id=r[0], at=r[1], kind=r[2], subject=r[3], detail=json.loads(r[4]))
                for r in rows]

    # -- figures -------------------------------------------------------
    def results(self, count: int) -> list[Task]:
        rows = self._query(f"SELECT {TASK_COLUMNS} FROM tasks WHERE finished_at IS NOT NULL"
                           " AND canary = 0 ORDER BY finished_at DESC, id DESC LIMIT ?", (count,))
        return [task_from_row(r) for r in rows]

    def state_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(states.ALL, 0)
        counts.update(dict(self._query("SELECT state, count(*) FROM tasks GROUP BY state")))
        return counts

    def ready_count(self, now: float) -> int:
        return self._query("SELECT count(*) FROM tasks WHERE state = 'queued' AND not_before <= ?",
                           (now,))[0][0]

    def outcome_counts(self, since: float, canary: bool = False) -> dict[str, int]:
        counts = dict.fromkeys(states.JUDGED, 0)
        rows = self._query("SELECT state, count(*) FROM tasks WHERE finished_at >= ? AND canary = ?"
                           " AND state IN ('succeeded', 'failed', 'dead') GROUP BY state",
                           (since, int(canary)))
        counts.update(dict(rows))
        return counts

    def latency_percentiles(self, since: float, quantiles: list[float],
                            canary: bool = False) -> dict[str, list[float | None]]:
        spans = {"total": "finished_at - enqueued_at", "wait": "started_at - enqueued_at",
                 "run": "finished_at - started_at"}
        return {name: self._quantiles(expr, since, quantiles, canary) for name, expr in spans.items()}

    def _quantiles(self, expr: str, since: float, quantiles: list[float],
                   canary: bool) -> list[float | None]:
        """Nearest-rank quantiles, counted and picked in SQL (one sort per span)."""
        window = ("FROM tasks WHERE finished_at >= ? AND canary = ? AND started_at IS NOT NULL"
                  " AND state IN ('succeeded', 'failed', 'dead')")
        n = self._query(f"SELECT count(*) {window}", (since, int(canary)))[0][0]
        if n == 0:
            return [None] * len(quantiles)
        # round() first: 0.55 * 100 is 55.00000000000001 in binary floating point, and a bare
        # ceil() would pick the 56th value instead of the 55th.
        ranks = [min(n, max(1, math.ceil(round(q * n, 9)))) for q in quantiles]
        picked = self._query(
            f"SELECT d, rn FROM (SELECT {expr} AS d, row_number() OVER (ORDER BY {expr}) AS rn"
            f" {window}) AS ranked WHERE rn IN ({', '.join(['?'] * len(ranks))})",
            (since, int(canary), *ranks))
        by_rank = dict((rn, d) for d, rn in picked)
        return [by_rank.get(r) for r in ranks]
