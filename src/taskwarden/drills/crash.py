"""``drill crash``: SIGKILL a busy worker three times; each must be replaced and its task re-run.

Each round enqueues a ``sleep`` task, waits until a worker runs it, kills that
worker, and measures the time to a new worker in the same slot (the warden's
restart, first at once, then with backoff) and to the task succeeding on its
second attempt (the warden releases a dead worker's leases at once).
"""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from taskwarden.drills.runner import STARTUP_S, Drill

ROUNDS = 3


def run(d: Drill) -> None:
    w = d.config.warden
    replace_limit = d.s(w.backoff_max_s) + d.stale + STARTUP_S
    for round_ in range(1, ROUNDS + 1):
        task = d.client.enqueue("sleep", {"seconds": max(0.5, 4 * d.interval)}, max_attempts=ROUNDS + 3,
                                timeout_s=60)
        running, _ = d.require(f"round {round_}: task {task['id']} running", "waiting for a worker to run it",
                               _in_state(d, task["id"], ("running",)),
                               STARTUP_S + d.s(d.config.worker.poll_wait_s),
                               f"task {task['id']} was never leased: no worker takes work")
        slot, pid = _owner(running["lease_owner"])
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        _, took = d.require(f"round {round_}: worker {pid} (slot {slot}) replaced",
                            "waiting for a new worker",
                            functools.partial(d.replacement, slot, pid), replace_limit,
                            f"worker {pid} in slot {slot} was killed and no new worker took its slot"
                            f" within {replace_limit:.1f}s (is a warden healing this stack?)")
        rerun_limit = replace_limit + d.s(d.config.worker.lease_s) + 30 * d.interval
        done, _ = d.require(f"round {round_}: task {task['id']} re-run", "waiting for the task to re-run",
                            _in_state(d, task["id"], ("succeeded", "dead", "failed")),
                            rerun_limit, f"task {task['id']} did not finish after its worker was killed")
        d.check(f"round {round_}: task {task['id']} succeeded on a later attempt",
                done["state"] == "succeeded" and done["attempts"] >= 2,
                time.monotonic() - killed_at, None, f"state {done['state']}, attempts {done['attempts']}")
        d.expect_for_outage("worker_count_low", max(0.0, took - d.stale), "no live worker")
        d.tolerate_dead_twin()


def _owner(lease_owner: str) -> tuple[int, int]:
    """(slot, pid) from a worker id ``<host>-s<slot>-<pid>``."""
    head, pid = lease_owner.rsplit("-", 1)
    return int(head.rsplit("-s", 1)[1]), int(pid)


def _in_state(d: Drill, task_id: int, states: tuple[str, ...]) -> Callable[[], dict[str, Any] | None]:
    """A condition for :meth:`Drill.require`: the task, once it is in one of ``states``."""
    def check() -> dict[str, Any] | None:
        task = d.client.get(task_id)
        return task if task["state"] in states else None
    return check
