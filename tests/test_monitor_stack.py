"""The monitor on a running stack: real server, workers and ``python -m taskwarden monitor``.

Time scale 10, a sample every 0.5 s real, a 1 s hold (see ``monitorutil``).
No warden runs here, so a killed worker stays dead and strays stay put.
"""

from __future__ import annotations

import itertools
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from monitorutil import (
    SAMPLE_REAL_S,
    SCALED_ENV,
    closed_port_url,
    events,
    hanging_server,
    receiver,
    samples_taken,
    start_monitor,
    wait_samples,
)
from stackutil import Stack, wait_for

SUCCESS = "alert:success_rate_low"


@pytest.fixture
def scaled(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path, **SCALED_ENV)
    s.start_server()
    yield s
    s.close()


def fired_and_resolved(stack: Stack, name: str) -> tuple[int, int]:
    subject = f"alert:{name}"
    return len(events(stack, "alert_fired", subject)), len(events(stack, "alert_resolved", subject))


def test_invalid_task_drill_fires_once_resolves_once_and_webhooks_hear_both(scaled: Stack) -> None:
    """20 invalid tasks fire the success-rate alert within two samples; 60 good ones resolve it.

    Besides a live receiver, the monitor is given a refused URL and one that never
    answers: sampling must keep its pace while those two retry in the background.
    """
    stack = scaled
    with receiver() as hook, hanging_server() as hang:
        stack.start_worker(0)
        start_monitor(stack, TASKWARDEN_MONITOR_WEBHOOKS=f"{hook.url}/generic,{closed_port_url()},{hang}",
                      TASKWARDEN_MONITOR_SLACK_WEBHOOKS=f"{hook.url}/slack",
                      TASKWARDEN_MONITOR_WEBHOOK_TIMEOUT_S="5")
        bad = [t["id"] for t in stack.client.enqueue_batch([{"action": "invalid_action"}] * 20)]
        done = [stack.wait_task(tid, ("failed",)) for tid in bad]
        assert {t["error_message"] for t in done} == {"unknown action 'invalid_action'"}
        last_failure = max(t["finished_at"] for t in done)

        fired = wait_for(lambda: events(stack, "alert_fired", SUCCESS), timeout=10,
                         message="success_rate_low to fire")
        assert fired[0]["at"] - last_failure <= 2 * SAMPLE_REAL_S + 0.25

        good = [t["id"] for t in stack.client.enqueue_batch([{"action": "noop"}] * 60)]
        for tid in good:
            stack.wait_task(tid)
        wait_for(lambda: events(stack, "alert_resolved", SUCCESS), timeout=10,
                 message="success_rate_low to resolve")
        wait_for(lambda: len(hook.bodies("/generic")) >= 2 and len(hook.bodies("/slack")) >= 2,
                 timeout=10, message="both webhook bodies")
        wait_samples(stack, 4)
        assert fired_and_resolved(stack, "success_rate_low") == (1, 1)

        generic = [b for b in hook.bodies("/generic") if b["name"] == "success_rate_low"]
        assert [(b["event"], b["status"]) for b in generic] == [("alert_fired", "firing"),
                                                               ("alert_resolved", "resolved")]
        assert generic[0]["threshold"] == 0.7 and generic[0]["value"] == 0.0
        slack = [b["text"] for b in hook.bodies("/slack") if "success_rate_low" in b["text"]]
        assert len(slack) == 2 and "FIRING" in slack[0] and "resolved" in slack[1]

        taken = samples_taken(stack)
        gaps = [b - a for a, b in itertools.pairwise(taken)]
        assert max(gaps) < SAMPLE_REAL_S * 2, f"sampling stalled behind dead webhooks: {max(gaps):.2f}s"

    doc = json.loads((stack.data_dir / "outputs" / "alerts" / "alert_success_rate_low.json").read_text())
    assert doc["status"] == "resolved" and doc["resolved_at"] > doc["fired_at"]
    assert [h["state"] for h in doc["history"]] == ["pending", "firing", "resolved"]
    alerts = stack.client.alerts()
    assert alerts["firing"] == [] and "success_rate_low" in {a["name"] for a in alerts["recent"]}


def test_a_burst_on_one_slow_worker_fires_queue_warning_and_critical_then_both_resolve(
        scaled: Stack) -> None:
    stack = scaled
    stack.start_worker(0)
    start_monitor(stack)
    ids = [t["id"] for t in stack.client.enqueue_batch(
        [{"action": "sleep", "params": {"seconds": 0.04}}] * 100)]
    wait_for(lambda: fired_and_resolved(stack, "queue_critical")[0], timeout=10,
             message="queue_critical to fire")
    warning = events(stack, "alert_fired", "alert:queue_warning")
    critical = events(stack, "alert_fired", "alert:queue_critical")
    assert warning and warning[0]["id"] < critical[0]["id"]

    finished = [stack.wait_task(tid, timeout=60) for tid in ids]
    assert {t["state"] for t in finished} == {"succeeded"} and len(finished) == 100
    wait_for(lambda: fired_and_resolved(stack, "queue_warning")[1], timeout=10,
             message="queue_warning to resolve")
    wait_samples(stack, 3)
    assert fired_and_resolved(stack, "queue_critical") == (1, 1)
    assert fired_and_resolved(stack, "queue_warning") == (1, 1)


def test_worker_count_low_when_the_only_worker_dies_and_high_with_a_stray(scaled: Stack) -> None:
    stack = scaled
    only = stack.start_worker(0)
    start_monitor(stack)
    only.send_signal(signal.SIGKILL)
    only.wait(10)
    fired = wait_for(lambda: events(stack, "alert_fired", "alert:worker_count_low"), timeout=15,
                     message="worker_count_low")
    assert fired[0]["detail"]["value"] == 0 and fired[0]["detail"]["threshold"] == 1
    status = stack.cli("status")  # the operator's view names the active alert
    assert "worker_count_low" in status.stdout and " firing" in status.stdout

    stack.start_worker(0)
    stack.start_worker(1)  # desired is 1: one too many
    wait_for(lambda: events(stack, "alert_fired", "alert:worker_count_high"), timeout=15,
             message="worker_count_high")
    wait_for(lambda: events(stack, "alert_resolved", "alert:worker_count_low"), timeout=15,
             message="worker_count_low to resolve")
    assert fired_and_resolved(stack, "worker_count_low") == (1, 1)


def test_a_canary_against_a_stopped_worker_fails_alerts_and_recovers(scaled: Stack) -> None:
    stack = scaled
    worker = stack.start_worker(0)
    start_monitor(stack, TASKWARDEN_MONITOR_CANARY_S="10", TASKWARDEN_MONITOR_CANARY_TIMEOUT_S="10")
    wait_for(lambda: events(stack, "canary_passed"), timeout=15, message="a first canary to pass")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0

    failed = wait_for(lambda: events(stack, "canary_failed"), timeout=15, message="a failed canary")
    assert failed[0]["detail"]["state"] == "timeout" and not failed[0]["detail"]["ok"]
    wait_for(lambda: events(stack, "alert_fired", "alert:canary_failed"), timeout=10,
             message="canary_failed to fire")
    canceled = stack.client.get(failed[0]["detail"]["task_id"])
    assert canceled["state"] == "canceled" and canceled["canary"]

    stack.start_worker(0)
    wait_for(lambda: events(stack, "alert_resolved", "alert:canary_failed"), timeout=20,
             message="canary_failed to resolve")
    assert fired_and_resolved(stack, "canary_failed") == (1, 1)
    assert len(samples_taken(stack, "canary")) >= 3
