"""What a drill found: its checks, the alerts it expected and saw, and the reports a person reads.

Alert accuracy, per drill and over ``drill all``:

* **expected**: alerts the drill's fault must raise by the rules' own semantics,
  given what was measured (e.g. ``worker_count_low`` once no worker was alive
  for longer than the pending time plus two samples);
* **tolerated**: alerts that may or may not fire (the outage was near the
  pending time, or a side effect the drill names with its reason); they count
  neither way;
* precision = expected that fired / (fired that were not tolerated);
  recall = expected that fired / expected. With nothing to count, 1.0.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    """One thing the drill verified; ``measured_s`` is how long it took to happen."""

    name: str
    ok: bool
    measured_s: float | None = None
    limit_s: float | None = None
    detail: str = ""


@dataclass
class Verdict:
    drill: str
    started_at: float
    finished_at: float = 0.0
    checks: list[Check] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)  # alert name -> why
    tolerated: dict[str, str] = field(default_factory=dict)
    observed: list[str] = field(default_factory=list)
    monitored: bool = True  # False: no monitor ran, alerts could not be judged
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def fired(self) -> set[str]:
        return set(self.observed)

    @property
    def hits(self) -> set[str]:
        return set(self.expected) & self.fired

    @property
    def missed(self) -> set[str]:
        return set(self.expected) - self.fired

    @property
    def spurious(self) -> set[str]:
        return self.fired - set(self.expected) - set(self.tolerated)

    def counts(self) -> tuple[int, int, int]:
        """(true positives, false positives, false negatives) of the alerting."""
        return len(self.hits), len(self.spurious), len(self.missed)

    def to_dict(self) -> dict[str, Any]:
        tp, fp, fn = self.counts()
        return {"drill": self.drill, "passed": self.passed, "started_at": self.started_at,
                "finished_at": self.finished_at, "duration_s": round(self.finished_at - self.started_at, 3),
                "checks": [asdict(c) for c in self.checks], "monitored": self.monitored,
                "alerts": {"expected": self.expected, "tolerated": self.tolerated,
                           "observed": sorted(self.fired), "fired": sorted(self.hits),
                           "missed": sorted(self.missed), "spurious": sorted(self.spurious)},
                "alert_precision": precision(tp, fp), "alert_recall": recall(tp, fn), "notes": self.notes}


def precision(tp: int, fp: int) -> float:
    return tp / (tp + fp) if tp + fp else 1.0


def recall(tp: int, fn: int) -> float:
    return tp / (tp + fn) if tp + fn else 1.0


def summary(verdicts: list[Verdict]) -> dict[str, Any]:
    """``drill all``: every drill, and precision and recall over all of their alerts."""
    tp = sum(v.counts()[0] for v in verdicts)
    fp = sum(v.counts()[1] for v in verdicts)
    fn = sum(v.counts()[2] for v in verdicts)
    return {"drill": "all", "passed": all(v.passed for v in verdicts),
            "started_at": verdicts[0].started_at if verdicts else time.time(),
            "finished_at": verdicts[-1].finished_at if verdicts else time.time(),
            "alert_precision": precision(tp, fp), "alert_recall": recall(tp, fn),
            "true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "drills": [v.to_dict() for v in verdicts]}


def _secs(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s"


def markdown(doc: dict[str, Any]) -> str:
    """One drill's report, or ``drill all``'s (a section per drill)."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(doc["started_at"]))
    head = [f"# Drill {doc['drill']}: {'PASSED' if doc['passed'] else 'FAILED'}", "",
            f"Started {when}. Alert precision {doc['alert_precision']:.2f},"
            f" recall {doc['alert_recall']:.2f}.", ""]
    parts = doc.get("drills") or [doc]
    for d in parts:
        head += _section(d, level="##")
    return "\n".join(head) + "\n"


def _section(d: dict[str, Any], level: str) -> list[str]:
    a = d["alerts"]
    lines = [f"{level} {d['drill']} — {'passed' if d['passed'] else 'FAILED'} in {d['duration_s']:.1f} s", "",
             "| check | result | measured | limit | detail |", "|---|---|---|---|---|"]
    for c in d["checks"]:
        lines.append(f"| {c['name']} | {'pass' if c['ok'] else '**FAIL**'} | {_secs(c['measured_s'])} |"
                     f" {_secs(c['limit_s'])} | {c['detail']} |")
    lines += ["", "| alerts | |", "|---|---|",
              f"| expected | {_reasons(a['expected'])} |", f"| tolerated | {_reasons(a['tolerated'])} |",
              f"| observed | {', '.join(a['observed']) or 'none'} |",
              f"| missed | {', '.join(a['missed']) or 'none'} |",
              f"| spurious | {', '.join(a['spurious']) or 'none'} |", ""]
    if not d["monitored"]:
        lines += ["No monitor was running: alerts could not be observed.", ""]
    lines += [f"- {n}" for n in d["notes"]]
    return [*lines, ""] if d["notes"] else lines


def _reasons(named: dict[str, str]) -> str:
    return "; ".join(f"{k} ({v})" for k, v in named.items()) or "none"


def write(doc: dict[str, Any], folder: Path, stamp: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"drill-{doc['drill']}-{stamp}"
    md, js = base.with_suffix(".md"), base.with_suffix(".json")
    md.write_text(markdown(doc))
    js.write_text(json.dumps(doc, indent=2, default=str))
    return md, js
