"""``run/warden.state.json``: the warden's view, published each tick for ``status`` and ``down``.

Written atomically, so ``status`` may read it at any moment. ``create_time``
per pid lets a reader (or the next warden) tell a live child from a reused pid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psutil

from taskwarden.supervision.alert_file import write_json


def path(data_dir: Path) -> Path:
    return data_dir / "run" / "warden.state.json"


def write(data_dir: Path, doc: dict[str, Any]) -> None:
    write_json(path(data_dir), doc)


def read(data_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path(data_dir).read_text())
    except (OSError, ValueError):
        return None


def create_time(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def same_process(pid: int | None, created: float | None) -> bool:
    """True when ``pid`` still runs and is the process that was recorded (not a reused pid)."""
    if pid is None or created is None:
        return False
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and abs(proc.create_time() - created) < 0.5
    except psutil.Error:
        return False
