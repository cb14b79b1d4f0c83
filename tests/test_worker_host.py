"""A worker host: `up --role worker --server URL --token T` runs only workers, for a remote server."""

from __future__ import annotations

import httpx
import psutil
from stackutil import Stack, wait_for

TOKEN = "s3cret-token"


def test_worker_host_runs_tasks_of_a_remote_server_with_a_token(stack: Stack) -> None:
    stack.start_server(TASKWARDEN_SERVER_TOKEN=TOKEN)
    refused = httpx.post(f"{stack.url}/api/worker/lease", json={"worker_id": "x"}, timeout=10)
    assert refused.status_code == 401 and "token" in refused.json()["error"]

    host = stack.data_dir / "worker-host"
    env = {"TASKWARDEN_DATA_DIR": str(host), "TASKWARDEN_WARDEN_MONITOR": "true"}
    try:
        up = stack.cli("up", "--detach", "--role", "worker", "--server", stack.url, "--token", TOKEN,
                       "--workers", "2", **env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "worker-0" in up.stdout and "worker-1" in up.stdout
        assert "server" not in up.stdout.split("taskwarden is up:")[1].split("\n")[0]
        tasks = stack.client.enqueue_batch([{"action": "sleep", "params": {"seconds": 0.2}}] * 10)
        done = [stack.wait_task(t["id"]) for t in tasks]
        owners = {t["lease_owner"] for t in done}
        host_workers = {w["id"] for w in stack.client.workers() if w["alive"]}
        assert owners <= host_workers and len(host_workers) == 2
        assert stack.client.stats()["wardens"]["alive"] == 1  # the worker host's warden heartbeats too
        children = [p for p in psutil.process_iter(["cmdline", "environ"])
                    if (p.info["environ"] or {}).get("TASKWARDEN_DATA_DIR") == str(host)]
        assert not any("server" in (p.info["cmdline"] or []) for p in children)
    finally:
        down = stack.cli("down", **env)
    assert down.returncode == 0, down.stderr
    wait_for(lambda: not [w for w in stack.client.workers() if w["alive"]], timeout=20,
             message="the worker host's workers to stop")


def test_worker_role_without_a_server_url_is_a_clear_configuration_error(stack: Stack) -> None:
    result = stack.cli("up", "--detach", "--role", "worker",
                       TASKWARDEN_DATA_DIR=str(stack.data_dir / "h"))
    assert result.returncode == 2
    assert "server.url" in result.stderr and "warden.role is 'worker'" in result.stderr
    bad = stack.cli("up", "--detach", "--role", "boss", TASKWARDEN_DATA_DIR=str(stack.data_dir / "h"))
    assert bad.returncode == 2 and "warden.role='boss'" in bad.stderr and "all, worker" in bad.stderr
