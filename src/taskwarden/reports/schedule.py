"""Regenerating every report each report interval, keeping the last N, pointing ``latest.*`` at the newest.

The monitor loop calls :func:`maybe_generate_in_background` on every tick:
it costs a clock comparison when nothing is due and, when a set is due,
starts one daemon thread with its own store connection and returns at once,
so a generation (a few seconds over 100,000 tasks) never delays a sample.
:func:`maybe_generate` is the same check run in the caller's thread, for
tests and for callers that already run off the sampling path.

Each set is stamped with its UTC generation time (``report-20250101T120000-000Z.md``
and its charts, ``dashboard-…html``, ``loop-report-….md/json``,
``scorecard-….md/json``); only the newest ``reports.keep`` sets stay. The
newest set is also *copied* (not linked: Windows) to ``latest.md``,
``latest.html``, ``latest-loop-report.md``, ``latest-scorecard.md`` and
``latest-scorecard.json``, and the dashboard to ``outputs/dashboard.html``.
Copies are written to a temporary name and renamed, so a reader never sees
half a file. Each generation is recorded as a ``reports_generated`` event,
which the scorecard reads to judge "generated every hour".
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

from taskwarden.config import Config
from taskwarden.reports import dashboard, loop_report, monitoring, scorecard
from taskwarden.reports.figures import gather
from taskwarden.store.base import Store

log = logging.getLogger("taskwarden.reports")
KINDS = ("report", "dashboard", "loop-report", "scorecard")
STAMPED = re.compile(rf"^({'|'.join(KINDS)})-(\d{{8}}T\d{{6}}-\d{{3}}Z)")
#: Hours each scheduled set covers (configured hours, so time-scaled).
PERIOD_HOURS = 24.0

_lock = threading.Lock()  # one generation at a time per process
_last: dict[Path, float] = {}  # reports folder -> time of the newest set (cached from disk)


def reports_dir(config: Config) -> Path:
    return config.data_dir / "outputs" / "reports"


def stamp(now: float) -> str:
    moment = datetime.fromtimestamp(now, UTC)
    return moment.strftime("%Y%m%dT%H%M%S") + f"-{moment.microsecond // 1000:03d}Z"


def _parse(text: str) -> float:
    moment = datetime.strptime(text[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return moment.timestamp() + int(text[16:19]) / 1000


def generate_all(config: Config, store: Store, now: float, hours: float = PERIOD_HOURS) -> dict[str, Path]:
    """Write a full set for the ``hours`` before ``now``, refresh ``latest.*``, prune old sets."""
    folder = reports_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    tag, scale = stamp(now), config.time_scale
    figures = gather(store, config, now, hours)
    before = gather(store, config, period=figures.period.previous(), hours=hours)
    paths = {"report": monitoring.write(figures, folder, f"report-{tag}", scale),
             "dashboard": dashboard.write(figures, folder / f"dashboard-{tag}.html", scale),
             "loop-report": loop_report.write(figures, folder, f"loop-report-{tag}"),
             "scorecard": scorecard.write(figures, config, folder, f"scorecard-{tag}",
                                          before if not before.empty else None)}
    for source, target in ((paths["report"], "latest.md"), (paths["dashboard"], "latest.html"),
                           (paths["loop-report"], "latest-loop-report.md"),
                           (paths["scorecard"], "latest-scorecard.md"),
                           (paths["scorecard"].with_suffix(".json"), "latest-scorecard.json")):
        _copy(source, folder / target)
    _copy(paths["dashboard"], config.data_dir / "outputs" / "dashboard.html")
    prune(folder, config.reports.keep)
    _last[folder] = max(_last.get(folder, 0.0), now)
    store.record_event("reports_generated", "reports", {"stamp": tag, "hours": hours,
                                                        "files": {k: p.name for k, p in paths.items()}},
                       now)
    return paths


def _copy(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete every stamped file whose set is older than the newest ``keep`` of its kind."""
    by_kind: dict[str, dict[str, list[Path]]] = {}
    for path in folder.iterdir():
        match = STAMPED.match(path.name)
        if match:
            by_kind.setdefault(match[1], {}).setdefault(match[2], []).append(path)
    removed = []
    for sets in by_kind.values():
        for old in sorted(sets, reverse=True)[keep:]:
            for path in sets[old]:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def last_generated(config: Config) -> float:
    """When the newest set on disk was made (0.0 when none); read from disk once, then cached."""
    folder = reports_dir(config)
    if folder not in _last:
        stamps = [STAMPED.match(p.name) for p in folder.glob("scorecard-*.json")] if folder.exists() else []
        _last[folder] = max((_parse(m[2]) for m in stamps if m), default=0.0)
    return _last[folder]


def due(config: Config, now: float) -> bool:
    return now - last_generated(config) >= config.seconds(config.reports.report_s)


def maybe_generate(config: Config, store: Store, now: float) -> bool:
    """Generate a set when one is due and none is being made; True when it generated."""
    if not due(config, now) or not _lock.acquire(blocking=False):
        return False
    try:
        generate_all(config, store, now)
        return True
    finally:
        _lock.release()


def maybe_generate_in_background(config: Config, now: float) -> threading.Thread | None:
    """For the monitor loop: when a set is due, generate it in a daemon thread with its own
    store connection (so the monitor's connection is never held by report queries); the thread,
    or None when nothing is due or a generation is still running."""
    if not due(config, now) or _lock.locked():
        return None
    thread = threading.Thread(target=_generate_safely, args=(config, now), daemon=True, name="reports")
    thread.start()
    return thread


def _generate_safely(config: Config, now: float) -> None:
    from taskwarden.store import open_store

    try:
        store = open_store(config)
        try:
            if maybe_generate(config, store, now):
                log.info("reports generated in %s", reports_dir(config))
        finally:
            store.close()
    except Exception:  # a failing report must never take the monitor down: log, retry next interval
        log.exception("report generation failed")
        _last[reports_dir(config)] = now
