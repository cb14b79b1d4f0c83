"""Request bodies of the HTTP API, validated by pydantic.

Limits here are the API's promises: a request that breaks one gets a 422
naming the field, and never reaches the store.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from taskwarden.store.base import Outcome, TaskSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskIn(_Strict):
    action: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=0, ge=-1000, le=1000)
    timeout_s: float = Field(default=60.0, gt=0, le=7 * 24 * 3600)
    max_attempts: int = Field(default=3, ge=1, le=100)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    canary: bool = False

    def to_spec(self) -> TaskSpec:
        return TaskSpec(**self.model_dump())


class LeaseIn(_Strict):
    """A lease request may carry the outcomes of the worker's previous batch.

    One request per batch instead of two (report, then lease) is the largest
    saving on the server's per-task CPU; the outcomes are recorded before leasing.
    """

    worker_id: str = Field(min_length=1, max_length=200)
    max: int = Field(default=1, ge=1, le=1000)
    wait_s: float = Field(default=0.0, ge=0, le=60)
    results: list[ResultIn] = Field(default_factory=list)
    failures: list[FailureIn] = Field(default_factory=list)

    def outcomes(self) -> list[Outcome]:
        return (CompleteIn(worker_id=self.worker_id, results=self.results).outcomes()
                + FailIn(worker_id=self.worker_id, failures=self.failures).outcomes())


class HeartbeatIn(_Strict):
    id: str = Field(min_length=1, max_length=200)
    host: str = Field(max_length=255)
    pid: int = Field(ge=0)
    slot: int = Field(default=0, ge=0)
    role: str = Field(default="worker", pattern="^(worker|warden|monitor)$")
    status: str = Field(default="idle", pattern="^(idle|busy|stopping|stopped)$")
    current_task: int | None = None
    started_at: float = 0.0
    #: The task ids a worker knows it holds; only their leases are extended (None: all of them).
    holding: list[int] | None = Field(default=None, max_length=10_000)


class ResultIn(_Strict):
    task_id: int
    result: Any = None


class FailureIn(_Strict):
    task_id: int
    error_class: str = Field(max_length=200)
    error_message: str = Field(max_length=10_000)
    retryable: bool = True


class CompleteIn(_Strict):
    worker_id: str = Field(min_length=1)
    results: list[ResultIn]

    def outcomes(self) -> list[Outcome]:
        return [Outcome(task_id=r.task_id, ok=True, result=r.result) for r in self.results]


class FailIn(_Strict):
    worker_id: str = Field(min_length=1)
    failures: list[FailureIn]

    def outcomes(self) -> list[Outcome]:
        return [Outcome(task_id=f.task_id, ok=False, error_class=f.error_class,
                        error_message=f.error_message, retryable=f.retryable)
                for f in self.failures]


class ReleaseIn(_Strict):
    """``count_attempt=True`` without ``task_ids`` is the warden saying the worker died:
    all its leases come back at once, the attempt counted."""

    worker_id: str = Field(min_length=1)
    task_ids: list[int] | None = None
    count_attempt: bool = False


class EventIn(_Strict):
    kind: str = Field(min_length=1, max_length=100)
    subject: str = Field(max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict)
