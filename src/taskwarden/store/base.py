"""The records the store keeps and the :class:`Store` protocol every backend implements.

The docstrings of :class:`Store` are the contract; ``tests/test_store_contract.py``
is its proof and runs unchanged against every backend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TaskSpec:
    """What a client asks to run."""

    action: str
    params: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    timeout_s: float = 60.0
    max_attempts: int = 3
    idempotency_key: str | None = None
    canary: bool = False


@dataclass(frozen=True)
class Task:
    """A task as stored, with everything a person needs to judge its fate."""

    id: int
    action: str
    params: dict[str, Any]
    priority: int
    state: str
    attempts: int
    max_attempts: int
    timeout_s: float
    idempotency_key: str | None
    canary: bool
    lease_owner: str | None
    lease_deadline: float | None
    not_before: float
    result: Any
    error_class: str | None
    error_message: str | None
    enqueued_at: float
    started_at: float | None
    finished_at: float | None

    def to_dict(self) -> dict[str, Any]:
        """A shallow copy (``asdict`` deep-copies params: measurable on the enqueue path)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class WorkerInfo:
    """A process as it reports itself in heartbeats: a worker, or a warden or monitor.

    ``role`` lets one table answer both "how many workers are alive" and
    "how many wardens are alive", on one host or many.
    """

    id: str
    host: str
    pid: int
    slot: int
    role: str = "worker"  # worker | warden | monitor
    status: str = "idle"  # idle | busy | stopping | stopped
    current_task: int | None = None
    started_at: float = 0.0
    last_heartbeat: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Event:
    """Something that happened to the system: a release, a restart, an alert."""

    id: int
    at: float
    kind: str
    subject: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What a worker reports for one task it ran."""

    task_id: int
    ok: bool
    result: Any = None
    error_class: str | None = None
    error_message: str | None = None
    retryable: bool = True


@dataclass(frozen=True)
class Sample:
    """One measurement the monitor took: ``kind`` is ``sample`` or ``canary``."""

    id: int
    at: float
    kind: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Alert:
    """An alert as stored: its current state and every transition it went through.

    ``id`` is None until the store has saved it. ``history`` is a list of
    ``{"at", "state", "value"}`` entries, oldest first, so a person can read
    how long it was pending, when it fired and when it cleared.
    """

    id: int | None
    name: str
    severity: str  # warning | critical
    state: str  # pending | firing | resolved
    started_at: float
    fired_at: float | None = None
    resolved_at: float | None = None
    value: float | None = None
    threshold: float | None = None
    summary: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class QueueFull(Exception):
    """Enqueueing would push the queue past its limit."""


class Store(Protocol):
    """Durable home of tasks, workers and events.

    Every method is one transaction: it either happens whole or not at all.
    Times are seconds since the epoch, passed in by the caller so the store
    never reads a clock of its own (tests inject time).
    """

    def enqueue(self, specs: list[TaskSpec], now: float, max_queue: int = 0) -> list[tuple[Task, bool]]:
        """Insert tasks in one transaction; return each with ``created``.

        A spec whose idempotency key already exists returns the existing task
        with ``created=False`` and inserts nothing. With ``max_queue > 0``,
        raises :class:`QueueFull` and inserts nothing when the queued count
        plus the new tasks would exceed it.
        """
        ...

    def get(self, task_id: int) -> Task:
        """The task, or :class:`NotFound`."""
        ...

    def list_tasks(self, state: str | None = None, action: str | None = None,
                   limit: int = 100) -> list[Task]:
        """Tasks newest first, optionally filtered by state and action."""
        ...

    def cancel(self, task_id: int, now: float) -> Task:
        """Cancel a queued task; :class:`Conflict` if it is no longer queued."""
        ...

    def lease(self, worker_id: str, limit: int, lease_s: float, now: float) -> list[Task]:
        """Atomically move up to ``limit`` ready tasks to running for this worker.

        Ready means queued with ``not_before <= now``; highest priority first,
        then oldest. Two concurrent callers never receive the same task. Each
        lease counts one attempt and expires at ``now + lease_s``.
        """
        ...

    def extend_leases(self, worker_id: str, deadline: float, task_ids: list[int] | None = None) -> int:
        """Push the deadline of this worker's leases; return how many.

        With ``task_ids``, only those: a lease the worker does not know it holds
        (the answer to its lease request was lost with a crashed server) is not
        kept alive by its heartbeats, so it lapses and the task runs again.
        """
        ...

    def finish(self, worker_id: str, outcomes: list[Outcome], now: float,
               retry_delay: Any = None) -> list[Task]:
        """Record outcomes of tasks this worker still holds; return the updated tasks.

        A task the worker no longer holds (its lease expired and it went
        elsewhere) is skipped, so a result is never recorded twice. A failure
        is retried (back to queued, ``not_before = now + retry_delay(attempts)``)
        when retryable and attempts remain, else it ends as ``dead``
        (attempts exhausted) or ``failed`` (not retryable).
        """
        ...

    def release(self, worker_id: str, task_ids: list[int] | None = None,
                count_attempt: bool = False, now: float = 0.0) -> list[Task]:
        """Give back leases (all of the worker's when ``task_ids`` is None).

        ``count_attempt=False`` is a clean give-back of work not started: the
        attempt is returned. ``True`` is for a worker that died mid-task: the
        attempt stands, and a task out of attempts becomes ``dead``.
        """
        ...

    def requeue_expired(self, now: float) -> list[Task]:
        """Requeue running tasks whose lease deadline passed (dead if out of attempts)."""
        ...

    def heartbeat(self, worker: WorkerInfo, now: float) -> None:
        """Insert or refresh the worker's row with ``last_heartbeat = now``."""
        ...

    def workers(self, role: str | None = "worker") -> list[WorkerInfo]:
        """Every known process of that role (all roles for None), most recent heartbeat first."""
        ...

    def forget_workers(self, older_than: float) -> int:
        """Drop worker rows whose last heartbeat is older than the time given."""
        ...

    def record_event(self, kind: str, subject: str, detail: dict[str, Any], now: float) -> Event:
        """Append an event."""
        ...

    def events(self, after_id: int = 0, limit: int = 100, kind: str | None = None) -> list[Event]:
        """Events with id > after_id, oldest first."""
        ...

    def results(self, count: int) -> list[Task]:
        """The ``count`` most recently finished non-canary tasks, newest first."""
        ...

    def state_counts(self) -> dict[str, int]:
        """Number of tasks in each state (every state present, zero included)."""
        ...

    def ready_count(self, now: float) -> int:
        """Tasks queued and ready to run (``not_before <= now``)."""
        ...

    def outcome_counts(self, since: float, canary: bool = False) -> dict[str, int]:
        """Judged outcomes (succeeded, failed, dead) finished since the time given."""
        ...

    def latency_percentiles(self, since: float, quantiles: list[float],
                            canary: bool = False) -> dict[str, list[float | None]]:
        """Nearest-rank quantiles of total, wait and run seconds of tasks finished since.

        Keys ``total`` (finished - enqueued), ``wait`` (started - enqueued) and
        ``run`` (finished - started); each list follows ``quantiles``; ``None``
        where no task finished.
        """
        ...

    def recent_outcomes(self, count: int) -> dict[str, int]:
        """Judged outcomes among the ``count`` most recently finished non-canary tasks.

        Canceled tasks are not among them, so "the last 20 results" means 20 judged ones.
        """
        ...

    def action_outcomes(self, since: float) -> dict[str, dict[str, int]]:
        """Per action, judged outcomes (succeeded, failed, dead; zeros included) finished since.

        Counted in SQL with GROUP BY; canaries are left out.
        """
        ...

    def error_classes(self, since: float) -> dict[str, dict[str, int]]:
        """Per action, how many tasks ended failed or dead since, by error class."""
        ...

    # -- the monitor's records ------------------------------------------
    def add_sample(self, kind: str, data: dict[str, Any], now: float) -> Sample:
        """Append a sample of that kind taken at ``now``."""
        ...

    def samples(self, kind: str, since: float = 0.0, limit: int = 10_000) -> list[Sample]:
        """Samples of a kind taken at or after ``since``, oldest first, at most ``limit``
        (the newest ones when there are more)."""
        ...

    def latest_sample(self, kind: str) -> Sample | None:
        """The newest sample of that kind, or None."""
        ...

    def prune_samples(self, older_than: float) -> int:
        """Delete samples taken before the time given (every kind); return how many."""
        ...

    def save_alert(self, alert: Alert) -> Alert:
        """Insert an alert (``id`` None) or replace every field of the stored one; the saved alert."""
        ...

    def delete_alert(self, alert_id: int) -> None:
        """Forget an alert that never fired (it went pending and cleared)."""
        ...

    def alerts(self, active: bool | None = None, since: float = 0.0, limit: int = 100) -> list[Alert]:
        """Alerts started at or after ``since``, newest first.

        ``active=True``: only pending and firing ones; ``False``: only resolved
        ones; ``None``: all.
        """
        ...

    def ping(self) -> None:
        """Raise :class:`StoreError` when the store cannot be reached; cheap otherwise."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
