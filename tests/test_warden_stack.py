"""The warden with real processes and real signals (DESIGN.md "Exactly one", "Healing").

Everything runs under ``TASKWARDEN_TIME_SCALE=20`` so the real policy (5 s
doubling to 60 s, 60 s stable, 10 min window) plays out in seconds; every wait
is a condition with a deadline. The fixture runs ``down`` and then kills any
process that still carries the test's data directory, so a failing test
leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from stackutil import SCALE, SCALED_ENV, Stack, ours, wait_for

from taskwarden.config import LIVENESS_FLOOR_S

WARDEN_ENV = {**SCALED_ENV, "TASKWARDEN_WARDEN_MONITOR": "false"}
CAP_S = 60 / SCALE


def role(proc: psutil.Process) -> str:
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return "gone"
    return next((part for part in ("warden", "server", "worker", "up", "ensure", "down")
                 if part in cmd), "other")


class WardenStack(Stack):
    def state(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "run" / "warden.state.json").read_text())

    def child(self, name: str) -> dict[str, Any]:
        return next(c for c in self.state()["children"] if c["name"] == name)

    def running_pid(self, name: str, not_pid: int | None = None) -> int | None:
        """The pid of ``name`` once the warden says it runs (and it is not ``not_pid``)."""
        c = self.child(name)
        return c["pid"] if c["state"] == "running" and c["pid"] != not_pid else None

    def events(self, kind: str) -> list[dict[str, Any]]:
        return self.client.events(limit=10_000, kind=kind)

    def up(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.cli("up", "--detach", *args)
        assert result.returncode == 0, result.stderr + result.stdout
        return result


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[WardenStack]:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    s = WardenStack(data_dir, **WARDEN_ENV)
    yield s
    s.cli("down", "--timeout", "15", timeout=40)
    for proc in ours(data_dir):
        proc.kill()
    s.close()


def test_concurrent_up_and_ensure_leave_one_warden_and_one_worker(stack: WardenStack) -> None:
    calls = [subprocess.Popen([sys.executable, "-m", "taskwarden", "up" if i % 2 else "ensure",
                               *(["--detach"] if i % 2 else [])], env=stack.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(10)]
    outputs = [" ".join(call.communicate(timeout=90)[0].split()) for call in calls]
    assert [c.returncode for c in calls] == [0] * 10, outputs
    assert sum("already runs" in out for out in outputs) >= 9
    warden_pid = stack.state()["pid"]
    assert all(f"pid {warden_pid}" in out for out in outputs if "already runs" in out)
    roles = sorted(r for p in ours(stack.data_dir) if (r := role(p)) != "other")
    assert roles == ["server", "warden", "worker"]
    stats = wait_for(lambda: (s := stack.client.stats())["wardens"]["alive"] == 1 and s,
                     message="the warden's heartbeat")
    assert stats["workers"]["alive"] == 1
    again = stack.cli("warden")  # a foreground warden refuses too, and names the holder
    assert again.returncode == 0 and f"pid {warden_pid}" in " ".join(again.stdout.split())


def test_killed_worker_is_replaced_and_its_task_reruns_five_times(stack: WardenStack) -> None:
    stack.up()
    for _ in range(5):
        task = stack.client.enqueue("sleep", {"seconds": 1.0}, max_attempts=10)
        victim = wait_for(lambda t=task: (w := stack.client.get(t["id"]))["state"] == "running"
                          and int(w["lease_owner"].rsplit("-", 1)[1]), message="the task to run")
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda v=victim: stack.running_pid("worker-0", not_pid=v), message="a new worker")
        done = stack.wait_task(task["id"], timeout=30)
        assert done["attempts"] == 2
        assert victim not in [p.pid for p in ours(stack.data_dir)]
    assert len([e for e in stack.events("leases_released") if e["detail"]["count_attempt"]]) == 5


def test_crash_loop_backs_off_alerts_keeps_retrying_and_resolves(stack: WardenStack) -> None:
    stack.up()
    fault = stack.data_dir / "run" / "fault-worker-start"
    alert = stack.data_dir / "outputs" / "alerts" / "rpa_worker_alert.json"
    fault.touch()
    os.kill(stack.child("worker-0")["pid"], signal.SIGKILL)
    wait_for(lambda: alert.exists() and json.loads(alert.read_text())["status"] == "firing",
             timeout=40, message="the alert file")
    doc = json.loads(alert.read_text())
    assert doc["restarts_in_window"] == 6 and doc["limit"] == 5 and 70 in doc["last_exit_codes"]
    assert stack.events("alert_fired")[0]["subject"] == "worker-0"
    fired_restarts = stack.child("worker-0")["restarts"]
    wait_for(lambda: stack.child("worker-0")["restarts"] > fired_restarts, timeout=10,
             message="a retry after the alert")

    fault.unlink()
    wait_for(lambda: json.loads(alert.read_text())["status"] == "resolved", timeout=30,
             message="the alert to resolve")
    assert json.loads(alert.read_text())["resolved_at"]
    assert stack.events("alert_resolved")

    moves = [e["detail"] for e in stack.events("process_state") if e["subject"] == "worker-0"]
    backoffs = [(i, m) for i, m in enumerate(moves) if m["to"] == "backoff"]
    delays = [m["delay_s"] for _, m in backoffs]
    policy = [0.0] + [min(CAP_S, 5 / SCALE * 2 ** k) for k in range(len(delays) - 1)]
    assert delays == pytest.approx(policy)
    for i, m in backoffs[:-1]:
        restart = moves[i + 1]
        assert restart["to"] == "starting" and restart["reason"] == "restart"
        waited = restart["at"] - m["at"]
        assert m["delay_s"] - 0.02 <= waited <= m["delay_s"] + 0.5, (m, restart)


def test_sigstopped_worker_is_replaced_within_its_staleness_limit(stack: WardenStack) -> None:
    stack.up()
    hung = stack.child("worker-0")["pid"]
    # Liveness limits never drop under the floor a real process needs (Config.liveness_seconds).
    stale_s, grace_s = max(60 / SCALE, LIVENESS_FLOOR_S), max(20 / SCALE, LIVENESS_FLOOR_S)
    os.kill(hung, signal.SIGSTOP)
    stopped_at = time.time()
    try:
        wait_for(lambda: stack.running_pid("worker-0", not_pid=hung), timeout=20,
                 message="a replacement")
    finally:
        if psutil.pid_exists(hung):
            os.kill(hung, signal.SIGCONT)
    hung_event = next(e for e in stack.events("process_state")
                      if e["detail"].get("pid") == hung and "hung" in e["detail"]["reason"])
    assert hung_event["detail"]["at"] - stopped_at <= stale_s + 2 * 0.5  # heartbeat + tick slack
    killed = [e for e in stack.events("process_killed") if e["detail"]["pid"] == hung]
    assert killed and killed[0]["detail"]["after_s"] == pytest.approx(grace_s)
    assert not psutil.pid_exists(hung) or psutil.Process(hung).status() == psutil.STATUS_ZOMBIE


def test_killed_server_comes_back_and_no_acknowledged_task_is_lost(stack: WardenStack) -> None:
    stack.up()
    ids = [t["id"] for t in stack.client.enqueue_batch(
        [{"action": "sleep", "params": {"seconds": 0.05}}] * 20)]
    ids.append(stack.client.enqueue("noop")["id"])
    server = stack.child("server")["pid"]
    os.kill(server, signal.SIGKILL)
    wait_for(lambda: stack.running_pid("server", not_pid=server), timeout=20, message="a new server")
    ids.append(stack.client.enqueue("noop")["id"])
    for task_id in ids:
        stack.wait_task(task_id, timeout=30)
    assert stack.child("server")["restarts"] == 1


def test_down_leaves_nothing_and_status_matches_the_process_table(stack: WardenStack) -> None:
    stack.up("--workers", "2")
    result = stack.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    warden = report["warden"]
    assert warden["running"] and warden["desired"]["worker"] == 2
    procs = {p.pid: r for p in ours(stack.data_dir) if (r := role(p)) != "other"}  # not action runners
    listed = {c["pid"]: c["name"].split("-")[0] for c in warden["children"]}
    assert {**listed, warden["pid"]: "warden"} == procs
    assert all(c["state"] == "running" for c in warden["children"])
    assert report["stats"]["workers"]["alive"] == 2

    down = stack.cli("down")
    assert down.returncode == 0, down.stderr
    assert ours(stack.data_dir) == []
    after = json.loads(stack.cli("status", "--json").stdout)
    assert not after["warden"]["running"] and not after["server"]["up"]


def test_killed_warden_leaves_no_orphans_and_ensure_starts_a_new_one(stack: WardenStack) -> None:
    stack.up()
    warden = stack.state()["pid"]
    children = [c["pid"] for c in stack.state()["children"]]
    os.kill(warden, signal.SIGKILL)
    wait_for(lambda: not any(psutil.pid_exists(p) for p in children), timeout=15,
             message="the orphans to stop themselves")
    result = stack.cli("ensure")
    assert result.returncode == 0 and "is up" in result.stdout, result.stderr
    assert stack.state()["pid"] != warden


def test_stray_worker_is_reported_and_stopped(stack: WardenStack) -> None:
    stack.up()
    stray = stack.spawn("worker", "--slot", "7")
    wait_for(lambda: stray.poll() is not None, timeout=20, message="the stray to be stopped")
    events = {e["kind"]: e for e in stack.client.events(limit=1000)
              if e["subject"] == f"worker:{stray.pid}"}
    assert {"stray_worker", "stray_stopped"} <= set(events)
    assert events["stray_worker"]["detail"]["desired"] == 1
    assert stack.running_pid("worker-0")
