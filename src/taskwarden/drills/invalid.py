"""``drill invalid``: 20 tasks of an action no worker knows; the success-rate alert must fire,
then resolve once good traffic follows.

The rule needs both its short and its long window below the threshold. When
the long window already holds much good traffic, 20 failures cannot get it
there; the drill then sends as many as it takes (it says how many) rather
than report a miss that was arithmetic, not a fault. Recovery sends ``noop``
tasks until the short window is well above the threshold again.
"""

from __future__ import annotations

import math
import time

from taskwarden.drills.runner import STARTUP_S, Drill

INVALID = 20
MARGIN = 0.1  # aim this far below (then above) the threshold
MAX_TASKS = 2000


def run(d: Drill) -> None:
    t = d.thresholds()
    m = d.config.monitor
    now = time.time()
    short = d.store.outcome_counts(now - d.s(m.success_short_s))
    long = d.store.outcome_counts(now - d.s(m.success_long_s))
    bad = min(MAX_TASKS, max(INVALID, t.min_judged, _failures_needed(long, t.success_rate_min - MARGIN),
                             _failures_needed(short, t.success_rate_min - MARGIN)))
    if bad > INVALID:
        d.verdict.notes.append(f"sent {bad} invalid tasks, not {INVALID}: the long window held"
                               f" {long['succeeded']} successes, which {INVALID} failures cannot outweigh")
    began = time.monotonic()
    ids = [task["id"] for task in d.client.enqueue_batch(
        [{"action": "drill.invalid_action", "max_attempts": 1}] * bad)]
    limit = STARTUP_S + bad * 0.05
    _, took = d.require(f"{bad} invalid tasks failed", "waiting for the invalid tasks to fail",
                        lambda: _count(d, ids, "failed") == len(ids), limit,
                        f"the {bad} invalid tasks did not all fail (unknown action) within {limit:.0f}s")
    fire_limit = d.pending + 4 * d.interval + STARTUP_S / 2
    fired, took = d.wait("waiting for success_rate_low to fire",
                         lambda: "success_rate_low" in d.active_alerts(), fire_limit)
    d.check("success_rate_low fired", bool(fired), took, fire_limit,
            "" if fired else "the success-rate alert did not fire" + ("" if d.verdict.monitored
                                                                     else " (no monitor runs)"))
    d.verdict.expected["success_rate_low"] = f"{bad} tasks failed with an unknown action"
    d.verdict.tolerated["anomaly"] = "one action's failure rate jumped"
    _recover(d, bad, t.success_rate_min)
    if fired:
        resolve_limit = d.hold + 4 * d.interval + STARTUP_S
        gone, took = d.wait("waiting for success_rate_low to resolve",
                            lambda: "success_rate_low" not in d.active_alerts(), resolve_limit)
        d.check("success_rate_low resolved under good traffic", bool(gone), took, resolve_limit,
                "" if gone else "still firing after the good traffic")
    d.verdict.notes.append(f"invalid tasks failed in {time.monotonic() - began:.1f}s in all")


def _failures_needed(counts: dict[str, int], target: float) -> int:
    """How many more failures bring succeeded / judged to ``target`` or below."""
    ok, judged = counts["succeeded"], counts["succeeded"] + counts["failed"] + counts["dead"]
    return max(0, math.ceil(ok / max(target, 0.01) - judged))


def _recover(d: Drill, bad: int, threshold: float) -> None:
    """Good tasks until the short window is above the threshold by the margin."""
    target = min(0.99, threshold + MARGIN)
    good = min(MAX_TASKS, math.ceil(bad * target / (1 - target)) + 10)
    ids = [task["id"] for task in d.client.enqueue_batch([{"action": "noop"}] * good)]
    limit = STARTUP_S + good * 0.05
    _, took = d.wait(f"waiting for {good} good tasks", lambda: _count(d, ids, "succeeded") == len(ids), limit)
    d.check(f"{good} good tasks succeeded", _count(d, ids, "succeeded") == len(ids), took, limit)


def _count(d: Drill, ids: list[int], state: str) -> int:
    wanted = set(ids)
    return sum(1 for task in d.client.list_tasks(state, limit=10_000) if task["id"] in wanted)
