"""The scorecard: the user's success criteria, each measured, compared with its target, judged.

Targets come from ``[reports]`` in the configuration. A criterion with nothing
to measure (no samples, no canary run, no drill report) says "no data" rather
than pass or fail: an empty week is not a good week. When the period before
has data too, each criterion shows its value then ("before") beside now.

"Held" criteria (exactly N workers, exactly one warden) pass when the count was
right in at least :data:`HELD_SHARE` of the monitor's samples, so a single
sample taken during a worker's kill-and-restart does not fail a whole day.
"Automatic recoveries" are restarts of dead or hung children and strays stopped.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from taskwarden.config import Config
from taskwarden.reports.figures import Figures
from taskwarden.reports.render import render

HELD_SHARE = 0.99
PASS, FAIL, NO_DATA = "pass", "fail", "no data"
#: The report schedule allows this much slack before a generation counts as missed.
GAP_SLACK = 1.5


@dataclass(frozen=True)
class Criterion:
    key: str
    level: str  # critical | important | nice
    name: str
    target: str
    measured: float | None
    shown: str
    status: str
    before: str | None = None
    before_status: str | None = None


Measure = Callable[[Figures, Config, Path], tuple[float | None, str, bool | None]]


def _success(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
    rate = f.outcomes["rate"]
    shown = "no task finished" if rate is None else f"{rate:.1%} of {f.outcomes['judged']} tasks"
    return rate, shown, None if rate is None else rate >= c.reports.success_rate


def _held(key: str, target: Callable[[Config], int]) -> Measure:
    def measure(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
        share = f.held(key, target(c))
        if share is None:
            return None, "no samples", None
        span = f.gauge_stats(key)
        return share, (f"exactly {target(c)} in {share:.1%} of {len(f.gauges)} samples"
                       f" (min {span['min']:.0f}, max {span['max']:.0f})"), share >= HELD_SHARE
    return measure


def _recoveries(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
    if f.empty:
        return None, "the system did not run", None
    n = len(f.recoveries)
    return float(n), f"{n} automatic recoveries", n >= c.reports.recoveries


def _queue(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
    mean = f.gauge_stats("ready")["mean"]
    if mean is None:
        return None, "no samples", None
    return mean, f"mean {mean:.2f} ready tasks", mean < c.reports.queue_mean


def _p95(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
    if not f.hourly_p95:
        return None, "no task finished", None
    mean = statistics.fmean(f.hourly_p95)
    return mean, f"mean of {len(f.hourly_p95)} hourly p95s: {mean:.2f}s", mean < c.reports.p95_s


def _canary(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
    rate = f.canary["rate"]
    if rate is None:
        return None, "no canary ran", None
    return rate, f"{f.canary['passed']}/{f.canary['runs']} passed", rate >= c.reports.canary


def _dashboard(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
    """The longest stretch without a generation, counted from when the system first left a trace."""
    made = sorted(e.at for e in f.events if e.kind == "reports_generated")
    traces = [g["at"] for g in f.gauges] + [e.at for e in f.events] + [s["t"] for s in f.series]
    if not traces:
        return None, "the system did not run", None
    if not made:
        return 0.0, "never generated in this period", False
    begin = max(f.period.start, min(traces))
    points = [begin, *made, f.period.end]
    gap = max(b - a for a, b in pairwise(points))
    every = c.seconds(c.reports.report_s)
    return (gap, f"{len(made)} generations; longest gap {gap / every:.2f} report intervals",
            gap <= GAP_SLACK * every)


def _accuracy(f: Figures, c: Config, d: Path) -> tuple[float | None, str, bool | None]:
    drill = latest_drill(d)
    if drill is None:
        return None, "no data (no drill report)", None
    doc, name = drill
    values = [doc[k] for k in ("alert_precision", "alert_recall") if isinstance(doc.get(k), (int, float))]
    if not values:
        return None, f"no data ({name} has no alert_precision/alert_recall)", None
    parts = ", ".join(f"{k.removeprefix('alert_')} {doc[k]:.0%}" for k in ("alert_precision", "alert_recall")
                      if k in doc)
    return min(values), f"{parts} ({name})", min(values) >= c.reports.alert_accuracy


def latest_drill(reports_dir: Path) -> tuple[dict[str, Any], str] | None:
    """The newest readable ``drill-all-*.json``, else the newest ``drill-*.json``.

    ``drill all`` is the run that measures alert accuracy over every fault, so
    it wins over a newer single drill. Names are ``drill-<name>-<stamp>``, so
    among one drill's reports the name orders by time; across drills, the
    modification time does.
    """
    runs_of_all = sorted(reports_dir.glob("drill-all-*.json"), reverse=True)
    others = sorted(reports_dir.glob("drill-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in [*runs_of_all, *others]:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            return doc, path.name
    return None


CRITERIA: tuple[tuple[str, str, str, Callable[[Config], str], Measure], ...] = (
    ("success_rate", "critical", "success rate over the period",
     lambda c: f">= {c.reports.success_rate:.0%}", _success),
    ("workers", "critical", "worker count held", lambda c: f"exactly {c.reports.workers}",
     _held("workers", lambda c: c.reports.workers)),
    ("recoveries", "critical", "automatic recoveries", lambda c: f">= {c.reports.recoveries}", _recoveries),
    ("queue_mean", "important", "mean queue size", lambda c: f"< {c.reports.queue_mean:g}", _queue),
    ("p95", "important", "mean p95 latency", lambda c: f"< {c.reports.p95_s:g}s", _p95),
    ("wardens", "important", "warden count held", lambda c: f"exactly {c.reports.wardens}",
     _held("wardens", lambda c: c.reports.wardens)),
    ("canary", "nice", "canary pass rate", lambda c: f">= {c.reports.canary:.0%}", _canary),
    ("dashboard", "nice", "dashboard generated every report interval",
     lambda c: f"every {c.reports.report_s:g}s (configured)", _dashboard),
    ("alert_accuracy", "nice", "alert accuracy in drills (precision and recall)",
     lambda c: f">= {c.reports.alert_accuracy:.0%}", _accuracy),
)


def _status(verdict: bool | None) -> str:
    return NO_DATA if verdict is None else PASS if verdict else FAIL


def score(f: Figures, config: Config, before: Figures | None = None) -> list[Criterion]:
    """Every criterion judged on ``f``; with ``before`` (the previous period, when it has data)
    each also carries its earlier value."""
    reports_dir = config.data_dir / "outputs" / "reports"
    out = []
    for key, level, name, target, measure in CRITERIA:
        value, shown, verdict = measure(f, config, reports_dir)
        then = measure(before, config, reports_dir) if before is not None and not before.empty else None
        out.append(Criterion(key, level, name, target(config), value, shown, _status(verdict),
                             then[1] if then else None, _status(then[2]) if then else None))
    return out


def document(f: Figures, criteria: list[Criterion]) -> dict[str, Any]:
    judged = [c for c in criteria if c.status != NO_DATA]
    return {"period": {"start": f.period.start, "end": f.period.end, "hours": f.hours},
            "generated_at": f.generated_at, "criteria": [asdict(c) for c in criteria],
            "passed": sum(c.status == PASS for c in judged), "judged": len(judged),
            "critical_passed": all(c.status == PASS for c in criteria if c.level == "critical")}


def write(f: Figures, config: Config, folder: Path, stem: str, before: Figures | None = None) -> Path:
    """``<stem>.md`` and ``<stem>.json`` in ``folder``; the Markdown's path."""
    folder.mkdir(parents=True, exist_ok=True)
    criteria = score(f, config, before)
    doc = document(f, criteria)
    (folder / f"{stem}.json").write_text(json.dumps(doc, indent=2))
    path = folder / f"{stem}.md"
    path.write_text(render("scorecard.md.j2", f=f, doc=doc, criteria=criteria,
                           has_before=any(c.before is not None for c in criteria)))
    return path
