"""The worker: lease tasks from the server, run them, report, heartbeat.

One worker process per slot. It holds the slot's OS lock, so a second
worker for the same slot refuses. Actions run in a killable child (see
:mod:`taskwarden.runner`). Heartbeats go out from their own thread, and
they extend the worker's leases; a worker that is stopped or hung stops
heartbeating, its leases lapse, and its tasks run again elsewhere.

SIGTERM/SIGINT: stop leasing, finish the task in hand, give back the rest,
exit 0. A second signal forces: the task in hand is killed and given back.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import Any

from taskwarden.artifacts import artifacts_dir
from taskwarden.client import Client
from taskwarden.config import Config
from taskwarden.errors import ServerUnreachable, TaskwardenError
from taskwarden.locks import ProcessLock
from taskwarden.runner import Job, JobResult, Runner

log = logging.getLogger("taskwarden.worker")
FLUSH_AFTER_S = 0.05
EXIT_OK = 0


def worker_id(host: str, slot: int | None, pid: int) -> str:
    """A worker's id: one per process incarnation, so a restarted worker never inherits leases.

    The warden derives the same id from the pid it spawned, to release a dead worker's leases.
    """
    return f"{host}-s{slot}-{pid}"


class Worker:
    def __init__(self, config: Config, slot: int = 0, server_url: str | None = None,
                 token: str | None = None) -> None:
        self.config, self.slot = config, slot
        self.id = worker_id(socket.gethostname(), slot, os.getpid())
        self.client = Client(server_url or config.server_url, token or config.server.token)
        self.lock = ProcessLock(config.data_dir / "run", f"worker-{slot}")
        self.started_at = time.time()
        self.signals = 0
        self.current_task: int | None = None
        #: Tasks leased and not yet reported; replaced whole (never mutated) so the
        #: heartbeat thread can read it without a lock.
        self.holding: frozenset[int] = frozenset()
        self._stop_beating = threading.Event()
        settings = {"shell_allow": list(config.actions.shell_allow),
                    "http_max_body": config.actions.http_max_body}
        self.runner = Runner(config.actions.modules, settings)

    # -- signals: record only, the loop acts ----------------------------
    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signals += 1

    @property
    def stopping(self) -> bool:
        return self.signals >= 1

    @property
    def forced(self) -> bool:
        return self.signals >= 2

    # -- life ----------------------------------------------------------
    def run(self) -> int:
        if not self.lock.acquire():
            log.info("worker slot %d is already held by %s; not starting another",
                     self.slot, self.lock.describe_holder())
            return EXIT_OK
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.runner.start()
        beater = threading.Thread(target=self._beat_forever, daemon=True, name="heartbeat")
        beater.start()
        log.info("worker %s started (slot %d, server %s)", self.id, self.slot, self.client.base_url)
        try:
            self._loop()
        finally:
            self._stop_beating.set()
            self.runner.stop()
            self._send_heartbeat("stopped")
            self.lock.release()
            log.info("worker %s stopped", self.id)
        return EXIT_OK

    def _loop(self) -> None:
        """Lease, run, and hand the batch's last outcomes to the next lease request."""
        prefetch = self.config.worker.prefetch
        wait = self.config.seconds(self.config.worker.poll_wait_s)
        unreported: list[tuple[int, JobResult]] = []
        try:
            while not self.stopping:
                results, failures = _split(unreported)
                try:
                    tasks = self.client.lease(self.id, prefetch, wait, results, failures)
                except (ServerUnreachable, TaskwardenError) as exc:
                    log.warning("lease failed: %s", exc)
                    time.sleep(min(1.0, wait))
                    continue
                unreported = self._run_batch(tasks)
        finally:
            self._report(unreported)

    def _run_batch(self, tasks: list[dict[str, Any]]) -> list[tuple[int, JobResult]]:
        self.holding = frozenset(t["id"] for t in tasks)
        unreported = self._run_each(tasks)
        self.holding = frozenset(tid for tid, _ in unreported)
        return unreported

    def _run_each(self, tasks: list[dict[str, Any]]) -> list[tuple[int, JobResult]]:
        """Run a batch; report as it goes when it is slow, return what is still to report."""
        pending: list[tuple[int, JobResult]] = []
        first_pending = 0.0
        for index, task in enumerate(tasks):
            if self.stopping:
                self._give_back([t["id"] for t in tasks[index:]])
                break
            self.current_task = task["id"]
            outcome = self.runner.run(self._job(task), lambda: self.forced)
            self.current_task = None
            if outcome.error_class == "Interrupted":
                self._give_back([task["id"]])
                continue
            if not pending:
                first_pending = time.monotonic()
            pending.append((task["id"], outcome))
            if time.monotonic() - first_pending >= FLUSH_AFTER_S:
                self._report(pending)
                pending = []
        return pending

    def _job(self, task: dict[str, Any]) -> Job:
        artifacts = artifacts_dir(self.config.data_dir, task["id"]) / f"attempt-{task['attempts']}"
        return Job(task_id=task["id"], action=task["action"], params=task["params"],
                   timeout_s=task["timeout_s"], attempt=task["attempts"], worker_id=self.id,
                   workspace=str(self.config.workspace), artifacts_dir=str(artifacts))

    def _report(self, outcomes: list[tuple[int, JobResult]]) -> None:
        """Send results and failures; retried until the server takes them or we are forced."""
        results, failures = _split(outcomes)
        for send, items in ((self.client.complete, results), (self.client.fail, failures)):
            while items and not self.forced:
                try:
                    send(self.id, items)
                    break
                except TaskwardenError as exc:
                    log.warning("could not report %d outcomes: %s; retrying", len(items), exc)
                    time.sleep(0.5)

    def _give_back(self, task_ids: list[int]) -> None:
        if not task_ids:
            return
        try:
            self.client.release(self.id, task_ids)
        except TaskwardenError as exc:
            log.warning("could not release %s (their leases will lapse): %s", task_ids, exc)

    # -- heartbeat -----------------------------------------------------
    def _beat_forever(self) -> None:
        interval = self.config.heartbeat_seconds()
        while not self._stop_beating.is_set():
            status = "stopping" if self.stopping else ("busy" if self.current_task else "idle")
            self._send_heartbeat(status)
            self._stop_beating.wait(interval)

    def _send_heartbeat(self, status: str) -> None:
        try:
            self.client.heartbeat({"id": self.id, "host": socket.gethostname(), "pid": os.getpid(),
                                   "slot": self.slot, "role": "worker", "status": status,
                                   "current_task": self.current_task,
                                   "started_at": self.started_at, "holding": sorted(self.holding)})
        except TaskwardenError as exc:
            log.warning("heartbeat failed: %s", exc)


def _split(outcomes: list[tuple[int, JobResult]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The API's two lists: results of successes, failures with their error class and message."""
    results = [{"task_id": tid, "result": o.result} for tid, o in outcomes if o.ok]
    failures = [{"task_id": tid, "error_class": o.error_class or "Error",
                 "error_message": (o.error_message or "")[:10_000], "retryable": o.retryable}
                for tid, o in outcomes if not o.ok]
    return results, failures
