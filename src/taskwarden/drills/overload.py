"""``drill overload``: 100 tasks at once; all must be processed, none lost, and the queue
alerts must fire and resolve.

The tasks are ``sleep`` tasks sized so the backlog lasts about
:data:`BACKLOG_SAMPLES` monitor samples whatever the number of workers: long
enough for the queue alerts to be due, short enough for a drill. The ready
queue is watched throughout, so the verdict says how long it stood above
each alert level, and which alerts that makes due.
"""

from __future__ import annotations

import threading
import time

from taskwarden.drills.runner import STARTUP_S, Drill

TASKS = 100
BACKLOG_SAMPLES = 8


def run(d: Drill) -> None:
    workers = max(1, len(d.workers()))
    seconds = min(2.0, max(0.02, BACKLOG_SAMPLES * d.interval * workers / TASKS))
    t = d.thresholds()
    above = {"queue_warning": 0.0, "queue_critical": 0.0}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(d, t.queue_warning, t.queue_critical, above, stop),
                               daemon=True)
    watcher.start()
    began = time.monotonic()
    try:
        ids = [task["id"] for task in d.client.enqueue_batch(
            [{"action": "sleep", "params": {"seconds": seconds}, "max_attempts": 3}] * TASKS)]
        d.check(f"{TASKS} tasks acknowledged", len(ids) == TASKS, time.monotonic() - began, None,
                f"{len(ids)} acknowledged")
        limit = TASKS * seconds / workers * 3 + STARTUP_S
        _, took = d.wait(f"waiting for {TASKS} tasks", lambda: _finished(d, ids) == len(ids), limit)
    finally:
        stop.set()
        watcher.join(5)
    states = _states(d, ids)
    done = states.get("succeeded", 0)
    d.check(f"all {TASKS} processed, none lost", done == TASKS, took, limit,
            ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    for alert, secs in above.items():
        level = t.queue_warning if alert == "queue_warning" else t.queue_critical
        d.expect_for_outage(alert, secs, f"ready queue at {level} or more")
    d.verdict.notes.append(f"{TASKS} sleep({seconds:.3g}s) tasks on {workers} worker(s); ready queue >= "
                           f"{t.queue_warning} for {above['queue_warning']:.1f}s, >= {t.queue_critical}"
                           f" for {above['queue_critical']:.1f}s")
    d.verdict.tolerated.setdefault("latency_p95_high", "a backlog raises latency by nature")
    d.verdict.tolerated.setdefault("anomaly", "a backlog is a change in latency and throughput")


def _watch(d: Drill, warning: int, critical: int, above: dict[str, float], stop: threading.Event) -> None:
    """Measure how long the ready queue stood at each alert level (the longest stretch)."""
    since: dict[str, float | None] = {"queue_warning": None, "queue_critical": None}
    step = max(0.02, d.interval / 5)
    while not stop.wait(step):
        try:
            ready = d.client.stats()["queue"]["ready"]
        except Exception:  # a slow answer under load is skipped, the next poll counts
            continue
        now = time.monotonic()
        for alert, level in (("queue_warning", warning), ("queue_critical", critical)):
            start = since[alert]
            if ready >= level:
                since[alert] = start = now if start is None else start
                above[alert] = max(above[alert], now - start)
            else:
                since[alert] = None


def _states(d: Drill, ids: list[int]) -> dict[str, int]:
    """Tasks of ``ids`` per state, from one listing of the newest tasks."""
    wanted, counts = set(ids), dict[str, int]()
    for task in d.client.list_tasks(limit=1000):
        if task["id"] in wanted:
            counts[task["state"]] = counts.get(task["state"], 0) + 1
    return counts


def _finished(d: Drill, ids: list[int]) -> int:
    states = _states(d, ids)
    return sum(n for s, n in states.items() if s in ("succeeded", "failed", "dead", "canceled"))

