"""How good is the anomaly detector? Precision, recall and detection delay on labelled series.

    .venv/bin/python bench/anomaly.py [--per-kind 12] [--normal 12] [--seed 1]

Each series (``bench/series.py``) is a week of samples every 5 minutes with at
most one injected anomaly. Samples go through the real path: the detector
attaches its findings, the ``anomaly`` rule reads them and the monitor's
engine (one sample pending, a hold of one sample) turns them into alerts.

* an alert is a **true positive** when it fires inside a labelled interval
  (or within :data:`GRACE_S` after it: the 1 h windows keep showing an incident
  for a while); otherwise it is a false positive;
* an anomaly is **found** when at least one alert fires inside it;
* **delay** is from the anomaly's start to its first alert.

Prints one row per kind and the totals; exit 1 when precision or recall is below 0.9.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from series import HOUR, KINDS, Generated, generate

from taskwarden.monitor.anomaly import Detector
from taskwarden.monitor.engine import Engine
from taskwarden.monitor.rules import BUILTIN, Thresholds

STEP_S = 300.0
GRACE_S = HOUR
TARGET = 0.9
ANOMALY_RULE = next(r for r in BUILTIN if r.name == "anomaly")


@dataclass
class Score:
    alerts: int = 0
    true_alerts: int = 0
    anomalies: int = 0
    found: int = 0
    right_metric: int = 0
    delays_h: list[float] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("alerts", "true_alerts", "anomalies", "found", "right_metric"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.delays_h += other.delays_h

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.anomalies if self.anomalies else 1.0


def alerts_for(gen: Generated) -> list[tuple[float, list[str]]]:
    """(fired at, metrics flagged) for every alert the monitor's path would raise."""
    detector = Detector(hour_s=HOUR)
    engine = Engine((ANOMALY_RULE,), pending_s=STEP_S, hold_s=STEP_S, slack_s=STEP_S / 4)
    fired = []
    for at, sample in gen.samples:
        sample["anomalies"] = detector.observe_sample(at, sample)
        reading = ANOMALY_RULE.check(sample, Thresholds())
        for tr in engine.evaluate(at, {"anomaly": reading}):
            if tr.kind == "fired":
                metrics = [f["metric"] for f in (tr.reading.detail["findings"] if tr.reading else [])]
                fired.append((at, metrics))
    return fired


def score(gen: Generated) -> Score:
    s = Score(anomalies=int(gen.anomaly is not None))
    fired = alerts_for(gen)
    s.alerts = len(fired)
    a = gen.anomaly
    inside = [(at, m) for at, m in fired if a and a.start <= at <= a.end + GRACE_S]
    s.true_alerts = len(inside)
    if a and any(at <= a.end for at, _ in inside):
        s.found = 1
        first_at, metrics = min(inside)
        s.delays_h.append((first_at - a.start) / HOUR)
        s.right_metric = int(a.metric in metrics)
    return s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=12)
    parser.add_argument("--normal", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    began = time.monotonic()
    total = Score()
    rows = []
    for k, kind in enumerate((*KINDS, None)):
        per_kind = Score()
        for i in range(args.normal if kind is None else args.per_kind):
            per_kind.add(score(generate(args.seed * 10_000 + k * 1000 + i, kind, step_s=STEP_S)))
        total.add(per_kind)
        rows.append((kind or "none (normal week)", per_kind))
    print(f"{'injected':<22}{'series':>7}{'alerts':>8}{'false+':>8}{'found':>7}{'recall':>8}"
          f"{'precision':>10}{'delay h (median/max)':>22}")
    for name, s in rows:
        delay = (f"{statistics.median(s.delays_h):.2f} / {max(s.delays_h):.2f}" if s.delays_h else "—")
        n = s.anomalies if s.anomalies else args.normal
        print(f"{name:<22}{n:>7}{s.alerts:>8}{s.alerts - s.true_alerts:>8}{s.found:>7}"
              f"{s.recall:>8.3f}{s.precision:>10.3f}{delay:>22}")
    median_delay = statistics.median(total.delays_h) if total.delays_h else float("nan")
    print(f"\nprecision {total.precision:.3f}  recall {total.recall:.3f}  "
          f"detection delay median {median_delay:.2f} h (mean {statistics.fmean(total.delays_h):.2f} h,"
          f" max {max(total.delays_h):.2f} h)  right series named first: {total.right_metric}/{total.found}"
          f"  [{time.monotonic() - began:.1f}s]")
    return 0 if total.precision >= TARGET and total.recall >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
