"""The one object through which the warden touches time and the OS.

Like supervisor's ``DummyOptions``, tests hand the state machine a fake with a
settable clock and pretend processes, so backoff, windows and alerts are
checked in microseconds without sleeping. The real one spawns real processes
with :mod:`subprocess` and asks :mod:`psutil` about the rest (portable to
Windows, where the first users live).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Protocol

import psutil


class Proc(Protocol):
    """A spawned child as the state machine sees it."""

    pid: int

    def poll(self) -> int | None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class System:
    """Real time, real processes."""

    def now(self) -> float:
        """Monotonic seconds: what every delay and window is measured in."""
        return time.monotonic()

    def wall(self) -> float:
        """Epoch seconds: what files and people read."""
        return time.time()

    def spawn(self, argv: list[str], env: dict[str, str], log_path: Path) -> Proc:
        """Start a child in its own session, so a Ctrl-C on the terminal reaches only
        the warden, which then stops the children in order (workers before the server)."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def runs_taskwarden(self, pid: int) -> bool:
        """The pid is alive and is a taskwarden process (not a reused pid)."""
        try:
            proc = psutil.Process(pid)
            return proc.status() != psutil.STATUS_ZOMBIE and "taskwarden" in " ".join(proc.cmdline())
        except psutil.Error:
            return False

    def signal_pid(self, pid: int, force: bool = False) -> None:
        """TERM (or KILL) a process we did not spawn, e.g. a stray worker."""
        try:
            proc = psutil.Process(pid)
            proc.kill() if force else proc.terminate()
        except psutil.Error:
            pass

