"""Exclusive OS-level locks that make "exactly one" hold.

A PID file alone lies after a crash (the PID is reused) and races when two
processes start together. An OS lock (``filelock``: fcntl on POSIX, msvcrt
on Windows) is released by the kernel when its holder dies, so the next
process can always take it. The holder's facts are written beside the lock,
only to tell a refused process *who* holds it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout


class ProcessLock:
    """One named lock under ``<data_dir>/run``, e.g. ``warden`` or ``worker-0``."""

    def __init__(self, run_dir: Path, name: str) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.path = run_dir / f"{name}.lock"
        self.holder_path = run_dir / f"{name}.holder.json"
        self._lock = FileLock(str(self.path), thread_local=False)

    def acquire(self) -> bool:
        """Take the lock without waiting; True when this process now holds it."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        self.holder_path.write_text(json.dumps(holder))
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self.holder_path.unlink(missing_ok=True)
            self._lock.release()

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def holder(self) -> dict[str, Any] | None:
        """Who holds it, as they wrote it; None when unknown."""
        try:
            return json.loads(self.holder_path.read_text())
        except (OSError, ValueError):
            return None

    def describe_holder(self) -> str:
        info = self.holder()
        if not info:
            return "another process (holder unknown)"
        return f"pid {info['pid']} on {info['host']}"
