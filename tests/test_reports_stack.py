"""The four reports from a real stack that ran a scripted mix, checked against a hand count.

The server and worker are real processes; the tasks go through the real API:
good, failing, retried-to-death, slow (killed at their timeout), invalid
(unknown actions, one named ``<script>alert(1)</script>``), a task whose worker
is killed with SIGKILL (its lease expires, the server's sweep ends it), and a
burst of 25 queued while no worker runs. What only a monitor or a warden
would have written (samples, restarts, an alert) is inserted with known
values. The reports are made by the real CLI, and their figures compared
with counts made here from the script and from the database on disk.
"""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path

from stackutil import Stack

from taskwarden.reports.render import secs
from taskwarden.store.base import Alert
from taskwarden.store.sqlite import SqliteStore

FINAL = ("succeeded", "failed", "dead")


def run_mix(stack: Stack, worker: object) -> dict[str, list[dict]]:
    c = stack.client
    mix = {
        "good": c.enqueue_batch([{"action": "noop"} for _ in range(10)]),
        "failing": c.enqueue_batch([{"action": "fail", "max_attempts": 1,
                                     "params": {"retryable": False, "message": "boom <b>"}}] * 3),
        "retried": c.enqueue_batch([{"action": "fail", "max_attempts": 2}] * 2),
        "slow": c.enqueue_batch([{"action": "sleep", "params": {"seconds": 5}, "timeout_s": 0.5,
                                  "max_attempts": 1}] * 2),
        "invalid": c.enqueue_batch([{"action": "no.such.action"}, {"action": "<script>alert(1)</script>"}]),
    }
    for task in (t for group in mix.values() for t in group):
        stack.wait_task(task["id"], FINAL)
    victim = c.enqueue("sleep", {"seconds": 30}, timeout_s=60, max_attempts=1)
    stack.wait_task(victim["id"], ("running",))
    worker.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
    worker.wait(10)  # type: ignore[attr-defined]
    mix["killed"] = [stack.wait_task(victim["id"], ("dead",), timeout=40)]  # the lease (15 s) lapses
    mix["burst"] = c.enqueue_batch([{"action": "noop"}] * 25)
    assert c.stats()["queue"]["ready"] == 25
    stack.start_worker(0)
    for task in mix["burst"]:
        stack.wait_task(task["id"], FINAL)
    return mix


def insert_known(path: Path, now: float) -> None:
    """Samples, restarts and an alert, as the monitor and the warden would have stored them."""
    store = SqliteStore(path)
    for i, (ready, workers) in enumerate(((0, 1), (25, 0), (12, 1), (0, 1))):
        store.add_sample("sample", {"queue": {"ready": ready}, "workers": {"alive": workers, "desired": 1},
                                    "wardens": {"alive": 1}}, now - 40 + 10 * i)
    for i in range(2):
        store.add_sample("canary", {"ok": True, "round_trip_s": 0.05}, now - 30 + i)
    for k in range(3):
        store.record_event("process_state", "worker-0", {"from": "backoff", "to": "starting",
                                                         "reason": "restart", "restarts": k + 1}, now - 20)
    store.save_alert(Alert(None, "queue_critical", "critical", "resolved", now - 35, fired_at=now - 30,
                           resolved_at=now, summary="25 tasks ready"))
    store.close()


def newest(folder: Path, pattern: str) -> Path:
    return sorted(folder.glob(pattern))[-1]


def test_reports_from_a_scripted_stack(running: Stack) -> None:
    mix = run_mix(running, running.procs[1])
    with running.db() as db:
        now = db.execute("SELECT max(finished_at) FROM tasks").fetchone()[0] + 0.5
        rows = db.execute("SELECT state, error_class, finished_at - enqueued_at FROM tasks"
                          " WHERE canary = 0").fetchall()
        expired = db.execute("SELECT count(*) FROM events WHERE kind = 'leases_expired'").fetchone()[0]
    insert_known(running.data_dir / "taskwarden.db", now)

    # The hand count: what the script did, checked against what the database holds.
    states = [r[0] for r in rows]
    assert (states.count("succeeded"), states.count("failed"), states.count("dead")) == (35, 5, 5)
    assert mix["killed"][0]["error_class"] == "LeaseLost" and expired == 1
    totals = sorted(r[2] for r in rows)
    p95 = totals[math.ceil(0.95 * len(totals)) - 1]

    for command in ("report", "loop-report", "scorecard", "dashboard"):
        done = running.cli(command, "--hours", "1")
        assert done.returncode == 0, done.stderr
    folder = running.data_dir / "outputs" / "reports"

    report = newest(folder, "report-*.md").read_text()
    assert "| tasks finished (judged) | 45 — 35 succeeded, 5 failed, 5 dead |" in report
    assert "| success rate (period) | 77.8 % |" in report
    assert f"/ {secs(p95)} /" in report
    assert "| queue size mean / max | 9.2 / 25 (4 samples) |" in report
    assert "| fail | 5 | 5 | 0.0 % | ActionError \u00d7 5 |" in report
    assert "TimeoutError \u00d7 2, LeaseLost \u00d7 1" in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report and "<script>" not in report
    assert "| queue_critical | critical |" in report and "| 30s |" in report

    loop = json.loads(newest(folder, "loop-report-*.json").read_text())
    assert [a["subject"] for a in loop["advised"][:2]] == ["fail", "sleep"]  # 5/45, then 3/45 lost
    assert loop["advised"][1]["impact"] * 45 == 3
    assert loop["did"]["acts"] == {"restart": 3, "leases_expired": 1}
    assert loop["did"]["canaries"] == {"runs": 2, "passed": 2}

    card = {c["key"]: c for c in json.loads(newest(folder, "scorecard-*.json").read_text())["criteria"]}
    assert card["success_rate"]["measured"] == 35 / 45 and card["success_rate"]["status"] == "fail"
    assert (card["recoveries"]["measured"], card["recoveries"]["status"]) == (3, "pass")
    assert card["workers"]["measured"] == 0.75 and card["queue_mean"]["measured"] == 37 / 4
    assert card["canary"]["status"] == "pass" and card["alert_accuracy"]["status"] == "no data"

    page = (running.data_dir / "outputs" / "dashboard.html").read_text()
    data = json.loads(page.split('<script type="application/json" id="data">')[1].split("</script>")[0])
    assert sum(data["success"]["n"]) == 45
    assert data["gauges"]["ready"] == [0, 25, 12, 0]
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
