"""Commands that run the whole stack: up, down, ensure, warden."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import typer
from filelock import FileLock, Timeout

from taskwarden import logs
from taskwarden.cli.app import EXIT_FAILED, EXIT_OK, app, console, fail, load_config
from taskwarden.config import Config
from taskwarden.locks import ProcessLock
from taskwarden.supervision import state_file

READY_TIMEOUT_S = 60.0


def _lock(config: Config) -> ProcessLock:
    return ProcessLock(config.data_dir / "run", "warden")


def _lock_free(config: Config) -> bool:
    """Probe the warden lock without writing a holder file (that names the real warden only).

    The warden takes the lock itself; a probe racing a starting warden can at
    worst make one of them step aside, never make two.
    """
    probe = FileLock(str(_lock(config).path), thread_local=False)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return False
    probe.release()
    return True


def _already_running(config: Config) -> typer.Exit:
    """Say who holds the lock; wait a moment for a just-started holder to write its name."""
    lock = _lock(config)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not (
            (holder := lock.holder()) and psutil.pid_exists(holder.get("pid", -1))):
        time.sleep(0.05)
    console.print(f"a warden already runs ({lock.describe_holder()}) for {config.data_dir}")
    return typer.Exit(EXIT_OK)


def _config_file(ctx: typer.Context) -> Path | None:
    return (ctx.find_root().obj or {}).get("config_file")


def _run_foreground(ctx: typer.Context, workers: int | None) -> None:
    from taskwarden.warden import Warden

    config = load_config(ctx, **{"warden.workers": workers})
    logs.setup("warden", config.data_dir)
    if not _lock_free(config):
        raise _already_running(config)
    console.print(f"starting taskwarden: dashboard at {config.server_url}/ (Ctrl-C stops it cleanly)")
    raise typer.Exit(Warden(config, config_file=_config_file(ctx)).run())


def _start_detached(ctx: typer.Context, workers: int | None) -> None:
    config = load_config(ctx, **{"warden.workers": workers})
    if not _lock_free(config):
        raise _already_running(config)
    argv = [sys.executable, "-m", "taskwarden", "warden", "--workers", str(config.warden.workers)]
    env = {**os.environ, "TASKWARDEN_DATA_DIR": str(config.data_dir.resolve()),
           "TASKWARDEN_SERVER_PORT": str(config.server.port),
           "TASKWARDEN_SERVER_HOST": config.server.host}
    if _config_file(ctx):
        env["TASKWARDEN_CONFIG"] = str(Path(_config_file(ctx)).resolve())  # type: ignore[arg-type]
    (config.data_dir / "logs").mkdir(parents=True, exist_ok=True)
    with open(config.data_dir / "logs" / "warden.out", "ab") as out:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    state = _wait_ready(config, proc)
    if state is None:  # lost the race to another up/ensure: that one is the warden
        raise _already_running(config)
    pids = ", ".join(f"{c['name']} {c['pid']}" for c in state["children"] if c["pid"])
    console.print(f"taskwarden is up: warden {proc.pid}; {pids}")
    console.print(f"dashboard: {config.server_url}/")


def _wait_ready(config: Config, proc: subprocess.Popen[bytes]) -> dict[str, Any] | None:
    """Until the new warden reports the server and every worker running; None if it exited at once."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        state = state_file.read(config.data_dir)
        if state and state.get("pid") == proc.pid and _ready(state):
            return state
        time.sleep(0.05)
    raise fail(f"the warden (pid {proc.pid}) did not bring the stack up within {READY_TIMEOUT_S:g}s;"
               f" see {config.data_dir / 'logs'}")


def _ready(state: dict[str, Any]) -> bool:
    essential = [c for c in state["children"] if c["component"] in ("server", "rpa_worker")]
    return bool(essential) and all(c["state"] == "running" for c in essential)


@app.command()
def up(ctx: typer.Context,
       workers: int | None = typer.Option(None, min=0, help="How many workers (default: config)."),
       detach: bool = typer.Option(False, help="Run in the background; return once it is up.")) -> None:
    """Start the warden, which starts and heals the server, the workers and the monitor."""
    if detach:
        _start_detached(ctx, workers)
    else:
        _run_foreground(ctx, workers)


@app.command()
def ensure(ctx: typer.Context) -> None:
    """Start a detached warden if none runs (for cron or a systemd timer); never a duplicate."""
    _start_detached(ctx, None)


@app.command()
def warden(ctx: typer.Context,
           workers: int | None = typer.Option(None, min=0, help="How many workers.")) -> None:
    """Run the warden in the foreground."""
    _run_foreground(ctx, workers)


@app.command()
def down(ctx: typer.Context,
         timeout: float = typer.Option(60.0, min=0.1, help="Seconds before a 2nd TERM forces it.")) -> None:
    """Stop everything cleanly: workers finish or give back their tasks, then the server stops."""
    config = load_config(ctx)
    if _lock_free(config):
        console.print(f"no warden runs for {config.data_dir}")
        _stop_recorded_children(config)
        raise typer.Exit(EXIT_OK)
    holder = _lock(config).holder() or {}
    pid = holder.get("pid")
    if not isinstance(pid, int):
        raise fail(f"the warden lock is held by {_lock(config).describe_holder()}; cannot signal it")
    console.print(f"stopping the warden (pid {pid}) and its children…")
    os.kill(pid, signal.SIGTERM)
    if not _wait_gone(config, pid, timeout):
        console.print(f"still running after {timeout:g}s: forcing")
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(config, pid, 15.0):
            raise fail(f"the warden (pid {pid}) did not stop", EXIT_FAILED)
    _stop_recorded_children(config)
    console.print("stopped")


def _wait_gone(config: Config, pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) and _lock_free(config):
            return True
        time.sleep(0.05)
    return False


def _stop_recorded_children(config: Config) -> None:
    """Belt and braces: a child the warden recorded that still runs is ours; stop it."""
    state = state_file.read(config.data_dir) or {}
    for child in state.get("children", []):
        if state_file.same_process(child.get("pid"), child.get("create_time")):
            console.print(f"stopping leftover {child['name']} (pid {child['pid']})")
            proc = psutil.Process(child["pid"])
            proc.terminate()
            try:
                proc.wait(config.seconds(config.warden.stop_grace_s))
            except psutil.TimeoutExpired:
                proc.kill()
