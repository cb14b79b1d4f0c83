"""Nothing lost: real processes killed with real signals."""

from __future__ import annotations

import os
import signal
import time

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


def test_a_lease_the_worker_never_received_lapses_while_the_worker_lives(stack: Stack) -> None:
    """The server died while answering a lease: the worker's heartbeats must not keep that lease alive."""
    stack.start_server(**SHORT_LEASE)
    task = stack.client.enqueue("noop")
    ghost = stack.client.lease("w-ghost", 1, 0)  # leased, as if the answer never reached its worker
    assert [t["id"] for t in ghost] == [task["id"]]
    beat = {"id": "w-ghost", "host": "h", "pid": 1, "slot": 9, "holding": []}
    deadline = time.monotonic() + 15
    while stack.client.get(task["id"])["state"] == "running":
        stack.client.heartbeat(beat)  # alive, holding nothing it knows of
        assert time.monotonic() < deadline, "the unknown lease was kept alive by heartbeats"
        time.sleep(0.2)
    stack.start_worker(0)
    done = stack.wait_task(task["id"])
    assert done["attempts"] == 2


def test_heartbeats_keep_the_leases_a_worker_does_hold(stack: Stack) -> None:
    stack.start_server(**SHORT_LEASE)
    task = stack.client.enqueue("noop")
    stack.client.lease("w-busy", 1, 0)
    beat = {"id": "w-busy", "host": "h", "pid": 1, "slot": 9, "holding": [task["id"]]}
    until = time.monotonic() + 5  # longer than the 3 s lease
    while time.monotonic() < until:
        assert stack.client.heartbeat(beat)["leases_extended"] == 1
        time.sleep(0.3)
    assert stack.client.get(task["id"])["state"] == "running"
