"""Which children a warden runs, and the command line and environment of each.

Every child is ``python -m taskwarden <component>`` with the warden's own
interpreter, so a venv, a frozen install and a dev checkout all work the same.
Children get the data directory, port, time scale and desired worker count
through ``TASKWARDEN_*`` variables (flags given to ``up`` reach them this
way) and ``TASKWARDEN_WARDEN_PID``, by which they notice the warden's death.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from taskwarden.config import Config
from taskwarden.supervision import parent
from taskwarden.supervision.backoff import Backoff, RestartWindow
from taskwarden.supervision.child import Child, Spec
from taskwarden.supervision.system import System

#: The alert file stem per component (DESIGN.md names the workers' file).
COMPONENTS = {"server": "server", "worker": "rpa_worker", "monitor": "monitor"}


def monitor_available() -> bool:
    """The monitor is another team's component; supervise it only once it exists."""
    try:
        return importlib.util.find_spec("taskwarden.monitor") is not None
    except ImportError:
        return False


def child_env(config: Config, workers: int, config_file: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TASKWARDEN_DATA_DIR": str(config.data_dir.resolve()),
                "TASKWARDEN_SERVER_HOST": config.server.host,
                "TASKWARDEN_SERVER_PORT": str(config.server.port),
                "TASKWARDEN_TIME_SCALE": str(config.time_scale),
                "TASKWARDEN_WARDEN_WORKERS": str(workers),
                "TASKWARDEN_WARDEN_ROLE": config.warden.role,
                "TASKWARDEN_SERVER_URL": config.server.url,
                "TASKWARDEN_SERVER_TOKEN": config.server.token,
                parent.ENV: str(os.getpid())})
    if config_file is not None:
        env["TASKWARDEN_CONFIG"] = str(Path(config_file).resolve())
    return env


def build(config: Config, workers: int, system: System, config_file: Path | None = None,
          with_monitor: bool | None = None) -> list[Child]:
    """The server first, then the workers, then the monitor: the order they start in."""
    env = child_env(config, workers, config_file)
    logs = config.data_dir / "logs"
    worker_host = config.warden.role == "worker"  # the server (and its monitor) run elsewhere
    names: list[tuple[str, str, int | None]] = [] if worker_host else [("server", "server", None)]
    names += [(f"worker-{slot}", "worker", slot) for slot in range(workers)]
    wants_monitor = monitor_available() if with_monitor is None else with_monitor
    if config.warden.monitor and wants_monitor and not worker_host:
        names.append(("monitor", "monitor", None))
    children = []
    for name, kind, slot in names:
        argv = [sys.executable, "-m", "taskwarden", kind]
        if slot is not None:
            argv += ["--slot", str(slot)]
        spec = Spec(name=name, component=COMPONENTS[kind], argv=argv, env=env, log_path=logs / f"{name}.out",
                    stale_s=config.liveness_seconds(config.warden.stale_heartbeat_s),
                    grace_s=config.liveness_seconds(config.warden.stop_grace_s), slot=slot)
        children.append(new_child(spec, config, system))
    return children


def new_child(spec: Spec, config: Config, system: System) -> Child:
    w = config.warden
    backoff = Backoff(config.seconds(w.backoff_start_s), config.seconds(w.backoff_max_s),
                      config.seconds(w.stable_s))
    window = RestartWindow(w.restart_limit, config.seconds(w.restart_window_s))
    return Child(spec=spec, system=system, backoff=backoff, window=window)
