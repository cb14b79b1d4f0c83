"""How long the reports take over a busy day (issue 5: a 24 h report over 100,000 tasks in < 10 s).

Fills a fresh SQLite store with ``--tasks`` synthetic tasks finished over the
last 24 h (a mix of actions, successes, failures with error classes, dead
tasks, canaries), a monitor sample every minute and a canary every 30 minutes,
plus warden events (restarts, released leases) and a few alerts; then times
each generator on it and prints the figures. Not a test: nothing asserts.

    .venv/bin/python bench/reports.py [--tasks 100000] [--hours 24]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from taskwarden import config as config_module
from taskwarden.reports import dashboard, loop_report, monitoring, schedule, scorecard
from taskwarden.reports.figures import gather
from taskwarden.store.base import Alert
from taskwarden.store.sqlite import SqliteStore

ACTIONS = {  # action: (share, failure rate, error class, run seconds, timeout)
    "noop": (0.4, 0.01, "RuntimeError", 0.01, 60.0),
    "http.request": (0.3, 0.08, "ConnectError", 0.3, 30.0),
    "browser.run": (0.2, 0.25, "TimeoutError", 8.0, 10.0),
    "file.copy": (0.1, 0.03, "FileNotFoundError", 0.05, 60.0),
}


def fill(store: SqliteStore, path: Path, n: int, hours: float, now: float) -> None:
    rng = random.Random(5)
    start = now - hours * 3600
    names, weights = list(ACTIONS), [a[0] for a in ACTIONS.values()]
    rows = []
    for i in range(n):
        action = rng.choices(names, weights)[0]
        _, fail, cls, run, timeout = ACTIONS[action]
        enq = start + (hours * 3600 - 60) * i / n
        began = enq + rng.expovariate(1 / 0.5)
        took = min(timeout, rng.expovariate(1 / run))
        bad = rng.random() < fail
        state = ("dead" if rng.random() < 0.5 else "failed") if bad else "succeeded"
        rows.append((action, "{}", state, 1, 3, timeout, 0, began + took, enq, began, began + took,
                     cls if bad else None, f"{cls}: synthetic failure {i}" if bad else None))
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO tasks (action, params, state, attempts, max_attempts, timeout_s, canary, not_before,"
        " enqueued_at, started_at, finished_at, error_class, error_message)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    samples = []
    for minute in range(int(hours * 60)):
        at = start + minute * 60
        samples.append((at, "sample", json.dumps(_sample(rng, at))))
        if minute % 30 == 0:
            ok = rng.random() > 0.02
            samples.append((at, "canary", json.dumps({"ok": ok, "task_id": minute, "state": "succeeded"
                                                      if ok else "timeout", "round_trip_s": 0.05,
                                                      "error": None if ok else "no result"})))
    conn.executemany("INSERT INTO samples (at, kind, data) VALUES (?, ?, ?)", samples)
    events = []
    for k in range(12):
        at = start + k * hours * 300
        events.append((at, "process_state", "worker-0", json.dumps({"from": "backoff", "to": "starting",
                                                                    "reason": "restart", "restarts": k + 1})))
        events.append((at, "leases_released", "worker:w0", json.dumps({"tasks": [k], "count_attempt": True})))
    conn.executemany("INSERT INTO events (at, kind, subject, detail) VALUES (?, ?, ?, ?)", events)
    conn.commit()
    conn.close()
    for k in range(6):
        at = start + k * hours * 600
        store.save_alert(Alert(None, "queue_warning", "warning", "resolved", at, fired_at=at + 60,
                               resolved_at=at + 900, value=8, threshold=6, summary="8 tasks ready"))


def _sample(rng: random.Random, at: float) -> dict:
    rate = 0.9 + rng.uniform(-0.05, 0.05)
    return {"at": at, "queue": {"ready": rng.randint(0, 12), "by_state": {}},
            "workers": {"alive": 1 if rng.random() > 0.005 else 0, "desired": 1, "busy": 1},
            "wardens": {"alive": 1}, "success_rate": {"1h": {"rate": rate}},
            "latency": {"total": {"p50": 0.4, "p95": rng.uniform(1, 6), "p99": 8.0}},
            "actions": {name: {"succeeded": 10, "failed": 1} for name in ACTIONS}}


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = fn(*args)
    print(f"{label:<28} {time.perf_counter() - began:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = config_module.load(None, {"data_dir": str(folder)}, environ={})
        store = SqliteStore(folder / "taskwarden.db")
        now = time.time()
        timed(f"fill {args.tasks} tasks", fill, store, folder / "taskwarden.db", args.tasks, args.hours, now)
        out = folder / "outputs" / "reports"
        out.mkdir(parents=True)
        f = timed("gather figures (SQL)", gather, store, config, now, args.hours)
        print(f"  {f.outcomes['judged']} tasks judged, success {f.outcomes['rate']:.1%},"
              f" p95 {f.latency['total']['p95']:.2f}s, {len(f.gauges)} samples, {len(f.events)} events")
        timed("report (md + 4 PNG charts)", monitoring.write, f, out, "report-bench")
        timed("dashboard (html)", dashboard.write, f, folder / "outputs" / "dashboard.html")
        timed("loop report", loop_report.write, f, out, "loop-bench")
        timed("scorecard", scorecard.write, f, config, out, "scorecard-bench")
        t0 = time.perf_counter()
        gather(store, config, now, args.hours)
        monitoring.write(f, out, "report-bench2")
        print(f"{'24 h report end to end':<28} {time.perf_counter() - t0:7.2f} s  (target < 10 s)")
        timed("generate_all (full set)", schedule.generate_all, config, store, now)
        store.close()


if __name__ == "__main__":
    main()
