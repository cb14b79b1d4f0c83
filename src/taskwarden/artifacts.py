"""Files that actions leave as evidence: screenshots, downloads, extracts.

They live under ``<data_dir>/artifacts/<task id>/attempt-<n>/`` on the host
that ran the task, so a retry never overwrites the evidence of the attempt
before it. The server lists and serves them (single host; with remote worker
hosts each host keeps its own), and prunes them after a retention period.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path


def artifacts_dir(data_dir: Path, task_id: int) -> Path:
    return data_dir / "artifacts" / str(task_id)


def list_artifacts(data_dir: Path, task_id: int) -> list[str]:
    """Names relative to the task's folder, e.g. ``attempt-1/failure.png``."""
    root = artifacts_dir(data_dir, task_id)
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def artifact_path(data_dir: Path, task_id: int, name: str) -> Path | None:
    """The file for ``name`` if it exists inside the task's folder; None for anything else."""
    root = artifacts_dir(data_dir, task_id).resolve()
    candidate = (root / name).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def prune(data_dir: Path, older_than_s: float, now: float | None = None) -> int:
    """Remove task folders not modified within ``older_than_s``; how many went."""
    base = data_dir / "artifacts"
    if not base.is_dir():
        return 0
    cutoff = (now or time.time()) - older_than_s
    removed = 0
    for folder in base.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
