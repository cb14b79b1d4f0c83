"""Start real taskwarden processes for tests: a server on a free loopback port, workers.

Every process is a real ``python -m taskwarden`` child; tests kill them with
real signals. ``Stack.close`` kills whatever is left, so a failing test leaves
nothing running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from taskwarden.client import Client

FAST_ENV = {
    "TASKWARDEN_WORKER_LEASE_S": "15",  # tests of lease expiry start their server with SHORT_LEASE
    "TASKWARDEN_WORKER_HEARTBEAT_S": "0.3",
    "TASKWARDEN_WORKER_POLL_WAIT_S": "1",
    "TASKWARDEN_WORKER_RETRY_BASE_S": "0.1",
    "TASKWARDEN_WORKER_RETRY_MAX_S": "0.5",
    "TASKWARDEN_SERVER_LEASE_SWEEP_S": "0.2",
    "TASKWARDEN_WARDEN_STALE_HEARTBEAT_S": "2",
}


SHORT_LEASE = {"TASKWARDEN_WORKER_LEASE_S": "3"}

#: For stacks run by a real warden under a time scale (real = configured / SCALE):
#: heartbeat 0.1 s, liveness limits at their 2 s floor, backoff cap 3 s.
SCALE = 20
SCALED_ENV = {
    "TASKWARDEN_TIME_SCALE": str(SCALE),
    "TASKWARDEN_WORKER_HEARTBEAT_S": "2", "TASKWARDEN_WORKER_LEASE_S": "30",
    "TASKWARDEN_WORKER_POLL_WAIT_S": "5", "TASKWARDEN_WORKER_RETRY_BASE_S": "2",
    "TASKWARDEN_WORKER_RETRY_MAX_S": "10", "TASKWARDEN_SERVER_LEASE_SWEEP_S": "1",
    "TASKWARDEN_WARDEN_STALE_HEARTBEAT_S": "60", "TASKWARDEN_WARDEN_STOP_GRACE_S": "20",
}


def ours(data_dir: Path, nested: bool = False) -> list[psutil.Process]:
    """Every live process started for this data directory (they all inherit its variable);
    with ``nested``, for any data directory inside it too."""
    found = []
    for proc in psutil.process_iter():
        try:
            theirs = proc.environ().get("TASKWARDEN_DATA_DIR", "")
            inside = nested and theirs.startswith(str(data_dir) + os.sep)
            match = theirs == str(data_dir) or inside
            if match and proc.pid != os.getpid() and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05,
             message: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Stack:
    """A data directory, a port and the processes started on them."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **FAST_ENV, "TASKWARDEN_DATA_DIR": str(data_dir),
                    "TASKWARDEN_SERVER_PORT": str(self.port), **env}
        self.env.pop("TASKWARDEN_CONFIG", None)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.client = Client(self.url, timeout=30)

    def spawn(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / f"{'-'.join(args)}.{len(self.procs)}.out", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "taskwarden", *args], env={**self.env, **env},
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def cli(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "taskwarden", *args], env={**self.env, **env},
                              capture_output=True, text=True, timeout=timeout)

    def start_server(self, **env: str) -> subprocess.Popen[bytes]:
        proc = self.spawn("server", **env)
        wait_for(self.healthy, message=f"server on {self.url}")
        return proc

    def start_worker(self, slot: int = 0) -> subprocess.Popen[bytes]:
        proc = self.spawn("worker", "--slot", str(slot))
        wait_for(lambda: any(w["pid"] == proc.pid and w["alive"] for w in self.client.workers()),
                 message=f"worker {proc.pid} heartbeat")
        return proc

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def db(self) -> sqlite3.Connection:
        """A second, read-only view of the store, to check what really is on disk."""
        return sqlite3.connect(f"file:{self.data_dir / 'taskwarden.db'}?mode=ro", uri=True)

    def wait_task(self, task_id: int, states: tuple[str, ...] = ("succeeded",),
                  timeout: float = 20) -> dict[str, Any]:
        return wait_for(lambda: (t := self.client.get(task_id)) and t["state"] in states and t,
                        timeout, message=f"task {task_id} in {states}")

    def close(self) -> None:
        """Kill what this stack started, and anything else running on its data directories
        (a warden started by ``up --detach`` in a test that then failed)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
        for leftover in ours(self.data_dir, nested=True):
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        self.client.close()
