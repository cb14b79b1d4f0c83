"""The whole stack on PostgreSQL: server, two workers and the monitor share one database."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from stackutil import Stack, wait_for
from store_backends import PgDatabase, pg_available


@pytest.fixture
def pg_stack(tmp_path: Path) -> Iterator[Stack]:
    reason = pg_available()
    if reason:  # .ci/run starts PostgreSQL; without it this is a failure, never a skip
        pytest.fail(reason)
    db = PgDatabase().create()
    stack = Stack(tmp_path, TASKWARDEN_STORE=db.url, TASKWARDEN_TIME_SCALE="60",
                  TASKWARDEN_MONITOR_SAMPLE_S="30")
    try:
        yield stack
    finally:
        stack.close()
        db.drop()


def test_tasks_flow_and_survive_a_killed_worker_on_postgres(pg_stack: Stack) -> None:
    stack = pg_stack
    stack.start_server()
    stack.start_worker(0)
    stack.start_worker(1)
    stack.spawn("monitor")
    mix = ([{"action": "noop"}] * 30 + [{"action": "invalid_action"}] * 3
           + [{"action": "sleep", "params": {"seconds": 0.1}}] * 6)
    ids = [t["id"] for t in stack.client.enqueue_batch(mix)]
    finals = [stack.wait_task(i, ("succeeded", "failed")) for i in ids]
    assert sum(t["state"] == "succeeded" for t in finals) == 36
    assert len({t["lease_owner"] for t in finals}) == 2  # both workers took part
    results = stack.client.results(39)
    assert results["succeeded"] == 36 and results["failed"] == 3

    victim = stack.client.enqueue("sleep", {"seconds": 1}, max_attempts=3)
    running = stack.wait_task(victim["id"], ("running",))
    holder = next(p for p in stack.procs[1:3] if running["lease_owner"].endswith(f"-{p.pid}"))
    os.kill(holder.pid, signal.SIGKILL)
    stack.client.release(running["lease_owner"], None, count_attempt=True)  # as the warden does
    done = stack.wait_task(victim["id"], timeout=30)
    assert done["attempts"] == 2 and done["lease_owner"] != running["lease_owner"]

    canaries = wait_for(lambda: stack.client.events(kind="canary_passed"), timeout=30,
                        message="the monitor's canary through PostgreSQL")
    canary = stack.client.get(int(canaries[0]["subject"].removeprefix("task:")))
    assert (canary["action"], canary["canary"], canary["state"]) == ("smoke", True, "succeeded")
