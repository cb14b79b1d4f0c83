"""``drill server-crash``: SIGKILL the queue server; it must come back and no acknowledged
task may be lost.

Tasks are acknowledged before the kill, and the drill keeps trying to enqueue
while the server is down: every task that got its 201 must finish. The time
the API was unreachable decides whether ``worker_count_low`` is due (no
heartbeat can arrive meanwhile) and whether the canary may fail.
"""

from __future__ import annotations

import os
import signal
import time

from taskwarden.drills.runner import STARTUP_S, Drill, DrillAborted
from taskwarden.errors import TaskwardenError


def run(d: Drill) -> None:
    pid = d.server_pid()
    if pid is None:
        d.check("the server's process found", False, detail="no server process for this data directory")
        raise DrillAborted("no server process found")
    # Fewer than the queue warning level: the drill is about durability, not a backlog alert.
    before = max(1, d.thresholds().queue_warning - 1)
    acked = [t["id"] for t in d.client.enqueue_batch([{"action": "noop"}] * before)]
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    limit = d.s(d.config.warden.backoff_max_s) + d.stale + STARTUP_S
    during: list[int] = []

    def back() -> bool:
        try:
            during.append(d.client.enqueue("noop")["id"])
        except TaskwardenError:
            return False
        return d.healthy()

    _, down_s = d.require(f"server {pid} replaced", "waiting for the server to answer again", back, limit,
                          f"the server (pid {pid}) was killed and nothing answered at"
                          f" {d.config.server_url} within {limit:.1f}s (is a warden healing this stack?)")
    acked += during
    d.check("a new server process", d.server_pid() not in (None, pid), detail=f"was {pid}")
    finish_limit = STARTUP_S + d.stale + d.s(d.config.worker.lease_s)
    done, took = d.wait(f"waiting for {len(acked)} acknowledged tasks",
                        lambda: _finished(d, acked) == len(acked), finish_limit)
    d.check(f"all {len(acked)} acknowledged tasks succeeded", bool(done), took, finish_limit,
            f"{_finished(d, acked)} of {len(acked)} succeeded" + ("" if done else _stuck(d, acked)))
    d.expect_for_outage("worker_count_low", max(0.0, down_s - d.stale), "no heartbeat could arrive")
    d.verdict.tolerated.setdefault("canary_failed", "a canary sent while the server was down fails")
    d.verdict.notes.append(f"API unreachable for {down_s:.2f}s; {len(during)} task(s) acknowledged"
                           f" right after it came back, {time.monotonic() - killed:.1f}s from kill to done")


def _stuck(d: Drill, ids: list[int]) -> str:
    """Why acknowledged tasks have not finished: the usual culprit named."""
    left = [t for t in (d.client.get(i) for i in ids) if t["state"] != "succeeded"]
    held = [t for t in left if t["state"] == "running" and t["lease_owner"]]
    owners = sorted({t["lease_owner"] for t in held})
    alive = {w["id"] for w in d.client.workers() if w.get("alive")}
    text = "; not finished: " + ", ".join(f"{t['id']} {t['state']} (attempt {t['attempts']})" for t in left)
    if owners and set(owners) <= alive:
        text += (f". {len(held)} are held 'running' by live worker(s) {', '.join(owners)}: the lease answer"
                 " was lost with the server, and the worker's heartbeats keep extending leases it never"
                 " received")
    return text


def _finished(d: Drill, ids: list[int]) -> int:
    wanted = set(ids)
    return sum(1 for task in d.client.list_tasks("succeeded", limit=10_000) if task["id"] in wanted)
