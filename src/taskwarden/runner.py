"""Runs actions in a child process that can be killed.

A hung action must be killed, not waited for, and a thread cannot be killed.
So each worker keeps one long-lived child (its own process group, so a
browser it started dies with it). Tasks go to the child over a pipe; past the
task's timeout the whole group gets SIGKILL and a fresh child is started.
Keeping the child between tasks costs one pipe round trip per task instead
of a process start.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from taskwarden.errors import ActionError

POLL_SLICE_S = 0.2
PARENT_CHECK_S = 0.5


@dataclass(frozen=True)
class Job:
    task_id: int
    action: str
    params: dict[str, Any]
    timeout_s: float
    attempt: int
    worker_id: str
    workspace: str
    artifacts_dir: str


@dataclass(frozen=True)
class JobResult:
    ok: bool
    result: Any = None
    error_class: str | None = None
    error_message: str | None = None
    retryable: bool = True


def _child_main(conn: Connection, modules: tuple[str, ...], settings: dict[str, Any],
                parent_pid: int) -> None:
    """The child's loop: one job in, one result out, until the pipe closes.

    ``parent_pid`` comes from the parent, not ``os.getppid()``: a worker killed
    while this child was still starting would otherwise leave it watching init.
    """
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    threading.Thread(target=_die_with_parent, args=(parent_pid,), daemon=True).start()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from taskwarden.actions.registry import ActionContext, Registry

    registry = Registry(modules)
    while True:
        try:
            job = Job(**conn.recv())
        except EOFError:
            return
        conn.send(asdict(_run_job(registry, job, settings, ActionContext)))


def _die_with_parent(parent_pid: int) -> None:
    """A worker killed with SIGKILL cannot kill us; so we notice and take our group down."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_S)
    os.killpg(os.getpid(), signal.SIGKILL)


def _run_job(registry: Any, job: Job, settings: dict[str, Any], context: type) -> JobResult:
    try:
        func = registry.get(job.action)
        ctx = context(task_id=job.task_id, worker_id=job.worker_id, attempt=job.attempt,
                      workspace=Path(job.workspace), artifacts_dir=Path(job.artifacts_dir),
                      settings=settings)
        result = func(job.params, ctx)
        json.dumps(result)
        return JobResult(ok=True, result=result)
    except ActionError as exc:
        return JobResult(ok=False, error_class=type(exc).__name__, error_message=str(exc),
                         retryable=exc.retryable)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, TypeError) and "JSON serializable" in str(exc):
            return JobResult(ok=False, error_class="TypeError", retryable=False,
                             error_message=f"action '{job.action}' returned a result that is not JSON: {exc}")
        return JobResult(ok=False, error_class=type(exc).__name__, error_message=str(exc))
    except Exception as exc:  # every other failure is recorded, never fatal to the child
        return JobResult(ok=False, error_class=type(exc).__name__, error_message=str(exc))


class Runner:
    """The parent's handle on the action child."""

    def __init__(self, modules: tuple[str, ...] = (), settings: dict[str, Any] | None = None) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._modules, self._settings = modules, settings or {}
        self._proc: Any = None
        self._conn: Connection | None = None
        self.restarts = 0

    def start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_child_main,
                                       args=(child, self._modules, self._settings, os.getpid()),
                                       daemon=True, name="taskwarden-action")
        self._proc.start()
        child.close()
        self._conn = parent

    def run(self, job: Job, interrupted: Any = lambda: False) -> JobResult:
        """Run one job; kill the child past the timeout or when ``interrupted()`` says so."""
        if self._proc is None or not self._proc.is_alive():
            self._restart()
        assert self._conn is not None
        self._conn.send(asdict(job))
        deadline = time.monotonic() + job.timeout_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                if self._conn.poll(max(0.0, min(remaining, POLL_SLICE_S))):
                    return JobResult(**self._conn.recv())
            except (EOFError, OSError):
                self._restart()
                return JobResult(ok=False, error_class="ActionProcessDied",
                                 error_message=f"the process running '{job.action}' died")
            if remaining <= 0:
                self._restart()
                return JobResult(ok=False, error_class="TimeoutError",
                                 error_message=f"action '{job.action}' exceeded its timeout of "
                                               f"{job.timeout_s:g} s and was killed")
            if interrupted():
                self._restart()
                return JobResult(ok=False, error_class="Interrupted",
                                 error_message="worker was forced to stop")

    def _restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        """Kill the child's whole process group; nothing it started outlives it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            if self._proc.is_alive():
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    self._proc.kill()
            self._proc.join(5)
            self._proc = None
