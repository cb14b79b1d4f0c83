"""``drill restart-limit``: a worker that cannot start; the warden must back off, write
``outputs/alerts/rpa_worker_alert.json`` past its restart limit, keep retrying, and recover
once the fault is gone.

The fault is the warden's own hook: while ``run/fault-worker-start`` exists
every worker exits at start-up. The drill kills the running worker so the
crash loop begins, removes the file once the alert is written (and in its
cleanup, whatever happens), then waits for a stable worker and a resolved file.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from typing import Any

from taskwarden.cli.components import FAULT_WORKER_START
from taskwarden.drills.runner import STARTUP_S, Drill, DrillAborted
from taskwarden.supervision.roster import COMPONENTS


def run(d: Drill) -> None:
    workers = d.workers()
    if not workers:
        d.check("a worker to break", False, detail="no worker runs")
        raise DrillAborted("no worker runs")
    slot, pid = min(workers.items())
    fault = d.config.data_dir / "run" / FAULT_WORKER_START
    alert = d.config.data_dir / "outputs" / "alerts" / f"{COMPONENTS['worker']}_alert.json"
    fault.touch()
    d.cleanups.append(lambda: fault.unlink(missing_ok=True))
    began = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    w = d.config.warden
    delays = sum(min(w.backoff_max_s, w.backoff_start_s * 2 ** k) for k in range(w.restart_limit))
    limit = d.s(delays) + (w.restart_limit + 1) * 2.0 + STARTUP_S
    doc, _ = d.require("restart limit alert file written", f"waiting for {alert.name}",
                          lambda: _status(alert, "firing"), limit,
                          f"worker slot {slot} could not start and no {alert.name} said so within"
                          f" {limit:.1f}s (is a warden healing this stack?)")
    d.verdict.notes.append(f"alert file: {doc.get('reason')}")
    fault.unlink(missing_ok=True)
    fixed = time.monotonic()
    back_limit = d.s(w.backoff_max_s) + d.stale + STARTUP_S
    _, back_s = d.require(f"worker slot {slot} running again", "waiting for a worker",
                          lambda: d.replacement(slot, pid), back_limit,
                          f"the fault was removed and no worker ran in slot {slot} within {back_limit:.1f}s")
    resolve_limit = d.s(w.stable_s) + STARTUP_S
    d.require("restart limit alert file resolved", f"waiting for {alert.name} to resolve",
              lambda: _status(alert, "resolved"), resolve_limit,
              f"{alert.name} still says firing {resolve_limit:.1f}s after the worker came back")
    d.verdict.expected["restart_limit"] = "the worker restarted past the limit"
    d.expect_for_outage("worker_count_low", max(0.0, fixed - began + back_s - d.stale), "no live worker")
    d.tolerate_dead_twin()
    d.verdict.tolerated.setdefault("canary_failed", "a canary sent while no worker ran times out")


def _status(path: Any, status: str) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and doc.get("status") == status:
            return doc
    return None


