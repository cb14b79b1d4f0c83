"""The canary: a ``smoke`` task sent through the public API to a real worker.

Every other figure is measured from the store; only the canary proves that
the whole path (HTTP, enqueue, lease, run, report) works right now. It runs
in its own thread because one round trip may take up to its timeout, and
sampling must go on meanwhile. Each result is a ``canary`` sample (the
``canary_failed`` rule reads the newest) and a ``canary_passed`` or
``canary_failed`` event.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from taskwarden import states
from taskwarden.client import Client
from taskwarden.errors import TaskwardenError
from taskwarden.store.base import Store

log = logging.getLogger("taskwarden.monitor.canary")
#: The server answers a long poll after at most 60 s; longer waits are several polls.
MAX_POLL_S = 30.0


class Canary:
    def __init__(self, client: Client, store: Store, interval_s: float, timeout_s: float,
                 record_event: Callable[[str, str, dict[str, Any]], None],
                 stop: threading.Event) -> None:
        self.client, self.store = client, store
        self.interval_s, self.timeout_s = interval_s, timeout_s
        self.record_event, self.stop = record_event, stop

    def run_forever(self, first_after_s: float) -> None:
        """One canary after ``first_after_s``, then one every interval until stopped."""
        delay = first_after_s
        while not self.stop.wait(delay):
            began = time.monotonic()
            try:
                self.run_once()
            except Exception:  # a broken canary must not end the thread: log, try next time
                log.exception("canary run failed unexpectedly")
            delay = max(0.0, self.interval_s - (time.monotonic() - began))

    def run_once(self) -> dict[str, Any] | None:
        """Send one smoke task and wait for it; the recorded result (None when stopped meanwhile)."""
        at, began = time.time(), time.monotonic()
        task: dict[str, Any] | None = None
        error = None
        try:
            task = self.client.enqueue("smoke", {}, canary=True, max_attempts=1,
                                       timeout_s=max(1.0, self.timeout_s))
            task = self._wait(task, began + self.timeout_s)
        except TaskwardenError as exc:
            error = str(exc)
        if self.stop.is_set() and (task is None or task["state"] not in states.FINISHED):
            return None
        result = self._verdict(task, error, time.monotonic() - began)
        self.store.add_sample("canary", result, at)
        kind = "canary_passed" if result["ok"] else "canary_failed"
        subject = f"task:{result['task_id']}" if result["task_id"] else "canary"
        self.record_event(kind, subject, result)
        (log.info if result["ok"] else log.warning)("%s in %.3fs: %s", kind, result["round_trip_s"],
                                                    result.get("error") or result["state"])
        return result

    def _wait(self, task: dict[str, Any], deadline: float) -> dict[str, Any]:
        while task["state"] not in states.FINISHED and not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            task = self.client.get(task["id"], wait=min(remaining, MAX_POLL_S))
        return task

    def _verdict(self, task: dict[str, Any] | None, error: str | None, took: float) -> dict[str, Any]:
        state = task["state"] if task else "not_sent"
        if task and state not in states.FINISHED:
            error = f"no result within {self.timeout_s:g}s (task {state})"
            state = "timeout"
            self._withdraw(task["id"])
        elif task and state != states.SUCCEEDED:
            error = f"{task.get('error_class')}: {task.get('error_message')}"
        result = task.get("result") if task else None
        return {"ok": state == states.SUCCEEDED, "task_id": task["id"] if task else None,
                "state": state, "round_trip_s": round(took, 4), "error": error,
                "worker": result.get("worker") if isinstance(result, dict) else None}

    def _withdraw(self, task_id: int) -> None:
        """A timed-out canary still queued is canceled, so it cannot pad the queue."""
        with contextlib.suppress(TaskwardenError):  # running or finished: it ends on its own
            self.client.cancel(task_id)
