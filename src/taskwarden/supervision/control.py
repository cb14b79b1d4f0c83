"""The operator's controls over a warden: is one running, start one detached, stop it.

The CLI (``up --detach``, ``ensure``, ``down``) parses and prints; the work is
here. "Is one running" is answered by the OS lock, never by a pid file alone;
the holder file only says *who* holds it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from filelock import FileLock, Timeout

from taskwarden.config import Config
from taskwarden.errors import TaskwardenError
from taskwarden.locks import ProcessLock
from taskwarden.supervision import state_file

READY_TIMEOUT_S = 60.0
POLL_S = 0.05


def lock(config: Config) -> ProcessLock:
    return ProcessLock(config.data_dir / "run", "warden")


def lock_free(config: Config) -> bool:
    """Probe the warden lock without writing a holder file (that names the real warden only).

    The warden takes the lock itself; a probe racing a starting warden can at
    worst make one of them step aside, never make two.
    """
    probe = FileLock(str(lock(config).path), thread_local=False)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return False
    probe.release()
    return True


def describe_holder(config: Config, wait_s: float = 5.0) -> str:
    """Who holds the lock; waits a moment for a just-started holder to write its name."""
    held = lock(config)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and not (
            (holder := held.holder()) and psutil.pid_exists(holder.get("pid", -1))):
        time.sleep(POLL_S)
    return held.describe_holder()


def start_detached(config: Config, config_file: Path | None) -> tuple[int, dict[str, Any]] | None:
    """Start ``taskwarden warden`` in its own session; return (its pid, its state) once the
    server and every worker run, or None when it stepped aside for a warden already running."""
    argv = [sys.executable, "-m", "taskwarden", "warden", "--workers", str(config.warden.workers)]
    env = {**os.environ, "TASKWARDEN_DATA_DIR": str(config.data_dir.resolve()),
           "TASKWARDEN_SERVER_PORT": str(config.server.port),
           "TASKWARDEN_SERVER_HOST": config.server.host,
           "TASKWARDEN_SERVER_URL": config.server.url, "TASKWARDEN_SERVER_TOKEN": config.server.token,
           "TASKWARDEN_WARDEN_ROLE": config.warden.role}
    if config_file is not None:
        env["TASKWARDEN_CONFIG"] = str(Path(config_file).resolve())
    (config.data_dir / "logs").mkdir(parents=True, exist_ok=True)
    with open(config.data_dir / "logs" / "warden.out", "ab") as out:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        state = state_file.read(config.data_dir)
        if state and state.get("pid") == proc.pid and _ready(state):
            return proc.pid, state
        time.sleep(POLL_S)
    raise TaskwardenError(f"the warden (pid {proc.pid}) did not bring the stack up within "
                          f"{READY_TIMEOUT_S:g}s; see {config.data_dir / 'logs'}")


def _ready(state: dict[str, Any]) -> bool:
    essential = [c for c in state["children"] if c["component"] in ("server", "rpa_worker")]
    return bool(essential) and all(c["state"] == "running" for c in essential)


def stop(config: Config, timeout: float, say: Callable[[str], None]) -> bool:
    """TERM the warden (it stops its children in order), a second TERM after ``timeout``;
    then stop any recorded child still running. True when nothing of ours runs."""
    if not lock_free(config):
        pid = (lock(config).holder() or {}).get("pid")
        if not isinstance(pid, int):
            raise TaskwardenError(f"the warden lock is held by {lock(config).describe_holder()};"
                                  " cannot signal it")
        say(f"stopping the warden (pid {pid}) and its children")
        os.kill(pid, signal.SIGTERM)
        if not _gone(config, pid, timeout):
            say(f"still running after {timeout:g}s: forcing")
            os.kill(pid, signal.SIGTERM)
            if not _gone(config, pid, 15.0):
                return False
    else:
        say(f"no warden runs for {config.data_dir}")
    _stop_recorded_children(config, say)
    return True


def _gone(config: Config, pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) and lock_free(config):
            return True
        time.sleep(POLL_S)
    return False


def _stop_recorded_children(config: Config, say: Callable[[str], None]) -> None:
    """Belt and braces: a child the warden recorded that still runs is ours; stop it."""
    state = state_file.read(config.data_dir) or {}
    for child in state.get("children", []):
        if state_file.same_process(child.get("pid"), child.get("create_time")):
            say(f"stopping leftover {child['name']} (pid {child['pid']})")
            try:
                proc = psutil.Process(child["pid"])
                proc.terminate()
                proc.wait(config.liveness_seconds(config.warden.stop_grace_s))
            except psutil.TimeoutExpired:
                proc.kill()
            except psutil.Error:
                continue
