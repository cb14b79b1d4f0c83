"""The worker on a real server: timeouts kill, retries back off, SIGTERM is graceful."""

from __future__ import annotations

import signal

import psutil
from stackutil import Stack, wait_for


def test_hung_action_is_killed_at_its_timeout(running: Stack) -> None:
    task = running.client.enqueue("sleep", {"seconds": 60}, timeout_s=1, max_attempts=1)
    done = running.wait_task(task["id"], ("dead",), timeout=15)
    assert done["error_class"] == "TimeoutError"
    assert "exceeded its timeout of 1 s" in done["error_message"]
    assert done["finished_at"] - done["started_at"] < 5
    # The worker is still healthy and runs the next task.
    nxt = running.client.enqueue("noop", {"echo": 7})
    assert running.wait_task(nxt["id"])["result"] == 7


def test_unknown_action_fails_at_once_without_retry(running: Stack) -> None:
    task = running.client.enqueue("invalid_action", max_attempts=5)
    done = running.wait_task(task["id"], ("failed",))
    assert done["attempts"] == 1
    assert done["error_message"] == "unknown action 'invalid_action'"


def test_retryable_failure_backs_off_then_goes_dead(running: Stack) -> None:
    task = running.client.enqueue("fail", {"message": "target down"}, max_attempts=3)
    done = running.wait_task(task["id"], ("dead",))
    assert done["attempts"] == 3
    assert (done["error_class"], done["error_message"]) == ("ActionError", "target down")
    dead = running.client.events(kind="task_dead")
    assert [e["subject"] for e in dead] == [f"task:{task['id']}"]


def test_action_error_not_retryable_is_failed_after_one_attempt(running: Stack) -> None:
    task = running.client.enqueue("fail", {"retryable": False}, max_attempts=3)
    done = running.wait_task(task["id"], ("failed",))
    assert done["attempts"] == 1


def test_sigterm_finishes_task_in_hand_and_gives_back_the_rest(stack: Stack) -> None:
    stack.start_server()
    worker = stack.spawn("worker", "--slot", "0", TASKWARDEN_WORKER_PREFETCH="3")
    wait_for(lambda: stack.client.workers(), message="worker heartbeat")
    tasks = stack.client.enqueue_batch([{"action": "sleep", "params": {"seconds": 1.5}}] * 3)
    ids = [t["id"] for t in tasks]
    wait_for(lambda: stack.client.get(ids[0])["state"] == "running", message="first task running")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0
    states = {tid: stack.client.get(tid) for tid in ids}
    assert states[ids[0]]["state"] == "succeeded"
    for tid in ids[1:]:
        assert states[tid]["state"] == "queued"
        assert states[tid]["attempts"] == 0  # given back unstarted: the attempt is returned
    [row] = [w for w in stack.client.workers() if w["pid"] == worker.pid]
    assert row["status"] == "stopped"


def test_second_worker_for_a_taken_slot_exits_0_and_names_the_holder(running: Stack) -> None:
    holder = running.procs[-1]
    result = running.cli("worker", "--slot", "0", timeout=30)
    assert result.returncode == 0
    assert f"already held by pid {holder.pid}" in result.stderr


def test_worker_killed_leaves_no_action_process_behind(running: Stack) -> None:
    worker = running.procs[-1]
    task = running.client.enqueue("sleep", {"seconds": 30}, timeout_s=60)
    running.wait_task(task["id"], ("running",))
    children = psutil.Process(worker.pid).children(recursive=True)
    assert children, "the action runs in a child process"
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    wait_for(lambda: all(not running_(p) for p in children), timeout=10,
             message="action processes to exit")


def running_(proc: psutil.Process) -> bool:
    """Alive and not a zombie (a container's init may be slow to reap orphans)."""
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_rows_of_long_gone_workers_are_forgotten(stack: Stack) -> None:
    """Every worker process has its own id; a day after its last heartbeat its row goes."""
    stack.start_server(TASKWARDEN_TIME_SCALE="86400")  # a configured day is one real second
    gone = stack.start_worker(0)
    gone.send_signal(signal.SIGTERM)
    assert gone.wait(15) == 0
    wait_for(lambda: not [w for w in stack.client.workers() if w["pid"] == gone.pid], timeout=15,
             message="the stopped worker's row to be forgotten")


def test_cli_prints_task_text_as_text_not_markup(running: Stack) -> None:
    waited = running.cli("enqueue", "shell", "-p", 'argv=["ls"]', "--wait")
    assert "the config's [actions] shell_allow list is empty" in waited.stdout
    running.client.enqueue("[bold]x[/bold]")
    wait_for(lambda: running.client.results(5)["count"] == 2, message="both tasks finished")
    table = running.cli("results", "--count", "5")
    assert "[bold]x[/bold]" in table.stdout
