"""Nothing lost: real processes killed with real signals."""

from __future__ import annotations

import os
import signal

import httpx
from stackutil import SHORT_LEASE, Stack, wait_for


def test_server_killed_after_1000_acknowledged_enqueues_keeps_all(stack: Stack) -> None:
    server = stack.start_server()
    acknowledged = []
    with httpx.Client(base_url=stack.url, timeout=10) as http:
        for i in range(1000):
            response = http.post("/api/tasks", json={"action": "noop", "params": {"i": i}})
            assert response.status_code == 201
            acknowledged.append(response.json()["id"])
    server.send_signal(signal.SIGKILL)
    server.wait(10)
    stack.start_server()
    stored = {t["id"]: t for t in stack.client.list_tasks(limit=5000)}
    assert sorted(stored) == sorted(acknowledged)
    assert {stored[tid]["params"]["i"] for tid in acknowledged} == set(range(1000))


def test_worker_killed_mid_task_task_reruns_once_after_lease_expires(stack: Stack) -> None:
    stack.start_server(**SHORT_LEASE)
    victim = stack.start_worker(0)
    task = stack.client.enqueue("sleep", {"seconds": 2}, timeout_s=60, max_attempts=3)
    first = stack.wait_task(task["id"], ("running",))
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    # Nobody releases it here: the lease deadline (3 s in tests) is the backstop.
    requeued = stack.wait_task(task["id"], ("queued",), timeout=15)
    assert requeued["error_class"] == "LeaseLost"
    stack.start_worker(1)
    done = stack.wait_task(task["id"], ("succeeded",), timeout=20)
    assert done["attempts"] == 2
    assert done["lease_owner"] != first["lease_owner"]
    assert done["result"] == {"slept": 2}
    assert not [e for e in stack.client.events() if e["kind"] == "late_result_dropped"]


def test_late_result_from_a_lost_lease_is_not_recorded_twice(stack: Stack) -> None:
    """A stopped worker's lease lapses and another finishes the task: the late report is dropped."""
    stack.start_server(**SHORT_LEASE)
    slow = stack.start_worker(0)
    task = stack.client.enqueue("sleep", {"seconds": 1.5}, timeout_s=30)
    first = stack.wait_task(task["id"], ("running",))
    os.kill(slow.pid, signal.SIGSTOP)  # its heartbeats stop, so its lease lapses
    try:
        stack.wait_task(task["id"], ("queued",), timeout=15)
        stack.start_worker(1)
        done = stack.wait_task(task["id"], ("succeeded",), timeout=20)
    finally:
        os.kill(slow.pid, signal.SIGCONT)
    # The first worker wakes, finishes its copy and reports it: the store must skip that report.
    dropped = wait_for(lambda: [e for e in stack.client.events(kind="late_result_dropped")],
                       message="the late report to arrive")
    assert dropped[0]["detail"]["tasks"] == [task["id"]]
    assert dropped[0]["subject"] == f"worker:{first['lease_owner']}"
    after = stack.client.get(task["id"])
    assert after["state"] == "succeeded"
    assert after["lease_owner"] == done["lease_owner"] != first["lease_owner"]
    assert after["finished_at"] == done["finished_at"]
    assert after["attempts"] == 2
