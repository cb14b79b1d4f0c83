"""``drill hang``: SIGSTOP a worker; the warden must see its heartbeat go stale and replace it.

A stopped process is alive to the OS, so only the heartbeat tells: the
warden must stop it (TERM, then KILL after the grace) and start another.
The frozen process is continued at the end if it somehow still exists.
"""

from __future__ import annotations

import contextlib
import os
import signal

from taskwarden.drills.runner import STARTUP_S, Drill, DrillAborted


def run(d: Drill) -> None:
    workers = d.workers()
    if not workers:
        d.check("a worker to hang", False, detail="no worker runs")
        raise DrillAborted("no worker runs")
    slot, pid = min(workers.items())
    os.kill(pid, signal.SIGSTOP)
    d.cleanups.append(lambda: _resume(pid))
    limit = d.stale + d.s(d.config.warden.stop_grace_s) + d.s(d.config.warden.tick_s) + STARTUP_S
    _, took = d.require(f"hung worker {pid} (slot {slot}) replaced", "waiting for a replacement",
                        lambda: d.replacement(slot, pid), limit,
                        f"worker {pid} was frozen (SIGSTOP) and nothing replaced it within {limit:.1f}s"
                        " (is a warden healing this stack?)")
    gone, _ = d.wait("waiting for the frozen process to go", lambda: not _alive(pid), STARTUP_S)
    d.check(f"frozen worker {pid} stopped", bool(gone),
            detail="" if gone else "the frozen process still exists")
    d.expect_for_outage("worker_count_low", max(0.0, took - d.stale), "no live worker")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"
    return True


def _resume(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)
