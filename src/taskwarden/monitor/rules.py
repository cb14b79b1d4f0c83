"""The built-in alert rules: what each one reads from a sample, and when it is breached.

A rule only judges one sample; whether that judgement becomes an alert (the
pending duration, the keep-firing hold) is :mod:`taskwarden.monitor.engine`'s
job. Thresholds come in as a :class:`Thresholds` value so a learned baseline
can replace the defaults of DESIGN.md without touching the rules.

A check returns ``None`` when the sample cannot be judged (too few tasks in a
window, no canary run yet): "no evidence" never pages, and an alert whose
evidence has gone away resolves after its hold like any other recovery.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from taskwarden.config import MonitorConfig

Sample = dict[str, Any]
_DEFAULTS = MonitorConfig()  # DESIGN.md's defaults live in the config; the rules read them there


@dataclass(frozen=True)
class Thresholds:
    """The numbers the rules compare against; DESIGN.md's defaults unless learned."""

    success_rate_min: float = _DEFAULTS.success_rate_min
    p95_latency_max_s: float = _DEFAULTS.p95_latency_max_s
    queue_warning: int = _DEFAULTS.queue_warning
    queue_critical: int = _DEFAULTS.queue_critical
    min_judged: int = _DEFAULTS.min_judged
    wardens_max: int = 1

    @classmethod
    def from_config(cls, monitor: MonitorConfig) -> Thresholds:
        return cls(success_rate_min=monitor.success_rate_min,
                   p95_latency_max_s=monitor.p95_latency_max_s,
                   queue_warning=monitor.queue_warning, queue_critical=monitor.queue_critical,
                   min_judged=monitor.min_judged)

    def with_baseline(self, success_rate_min: float | None = None,
                      p95_latency_max_s: float | None = None) -> Thresholds:
        """Learned values, with these thresholds as floors: a baseline learned on a bad
        week must not teach the monitor that 50 % success is normal."""
        changes: dict[str, Any] = {}
        if success_rate_min is not None:
            changes["success_rate_min"] = max(success_rate_min, self.success_rate_min)
        if p95_latency_max_s is not None:
            changes["p95_latency_max_s"] = max(p95_latency_max_s, self.p95_latency_max_s)
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Reading:
    """One rule's judgement of one sample."""

    breached: bool
    value: float | None
    threshold: float
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)


Check = Callable[[Sample, Thresholds], Reading | None]


@dataclass(frozen=True)
class Rule:
    """A named check with a severity; ``pending`` False fires on the first breached sample
    (used where the input is already a considered verdict: a canary, the warden's file)."""

    name: str
    severity: str
    check: Check
    pending: bool = True


def _rate(window: dict[str, Any]) -> tuple[float | None, int]:
    judged = window["succeeded"] + window["failed"] + window["dead"]
    return (window["succeeded"] / judged if judged else None), judged


def success_rate_low(s: Sample, t: Thresholds) -> Reading | None:
    """Multiwindow: the short window notices quickly and recovers quickly, the long one
    confirms it is not a blip; both must breach. A window with too few tasks is not judged."""
    short, n_short = _rate(s["success_rate"]["short"])
    long, n_long = _rate(s["success_rate"]["long"])
    if short is None or long is None or min(n_short, n_long) < t.min_judged:
        return None
    breached = short < t.success_rate_min and long < t.success_rate_min
    return Reading(breached, short, t.success_rate_min,
                   f"success rate {short:.0%} over the short window ({n_short} tasks) and {long:.0%}"
                   f" over the long window ({n_long} tasks); threshold {t.success_rate_min:.0%}",
                   {"short": short, "long": long, "judged_short": n_short, "judged_long": n_long,
                    "errors": s.get("errors", {})})


def latency_p95_high(s: Sample, t: Thresholds) -> Reading | None:
    p95 = s["latency"]["total"]["p95"]
    if p95 is None or s["success_rate"]["1h"]["judged"] < t.min_judged:
        return None
    return Reading(p95 > t.p95_latency_max_s, p95, t.p95_latency_max_s,
                   f"p95 latency {p95:.2f}s over 1h; threshold {t.p95_latency_max_s:g}s",
                   {"latency": s["latency"]["total"]})


def queue_warning(s: Sample, t: Thresholds) -> Reading:
    """Covers every size from the warning level up, so a queue that jumps straight past
    critical and drains back shows the warning without a second page."""
    ready = s["queue"]["ready"]
    return Reading(ready >= t.queue_warning, ready, t.queue_warning,
                   f"{ready} tasks ready in the queue; warning at {t.queue_warning}",
                   {"by_state": s["queue"]["by_state"]})


def queue_critical(s: Sample, t: Thresholds) -> Reading:
    ready = s["queue"]["ready"]
    return Reading(ready >= t.queue_critical, ready, t.queue_critical,
                   f"{ready} tasks ready in the queue; critical at {t.queue_critical}",
                   {"by_state": s["queue"]["by_state"]})


def worker_count_low(s: Sample, t: Thresholds) -> Reading:
    alive, desired = s["workers"]["alive"], s["workers"]["desired"]
    return Reading(alive < desired, alive, desired,
                   f"{alive} worker(s) alive; {desired} desired", dict(s["workers"]))


def worker_count_high(s: Sample, t: Thresholds) -> Reading:
    alive, desired = s["workers"]["alive"], s["workers"]["desired"]
    return Reading(alive > desired, alive, desired,
                   f"{alive} worker(s) alive; only {desired} desired", dict(s["workers"]))


def wardens_high(s: Sample, t: Thresholds) -> Reading:
    alive = s["wardens"]["alive"]
    return Reading(alive > t.wardens_max, alive, t.wardens_max,
                   f"{alive} wardens alive; at most {t.wardens_max} allowed", dict(s["wardens"]))


def canary_failed(s: Sample, t: Thresholds) -> Reading | None:
    last = s.get("last_canary")
    if not last:
        return None
    summary = ("canary passed" if last["ok"] else
               f"canary task failed: {last.get('error') or last.get('state')}")
    return Reading(not last["ok"], float(not last["ok"]), 0.0, summary, dict(last))


def restart_limit(s: Sample, t: Thresholds) -> Reading:
    firing = s.get("restart_alerts", [])
    names = ", ".join(a.get("component", "?") for a in firing)
    return Reading(bool(firing), len(firing), 0.0,
                   f"restart limit hit by {names}" if firing else "no component at its restart limit",
                   {"components": firing})


def anomaly(s: Sample, t: Thresholds) -> Reading | None:
    """What :mod:`taskwarden.monitor.anomaly` attached to the sample; None while it is still learning."""
    found = s.get("anomalies")
    if not found:
        return None
    bad = [f for f in found["findings"] if f["anomalous"]]
    worst = max(found["findings"], key=lambda f: f["z"])
    summary = ("; ".join(f"{f['metric']} {f['value']:.4g} vs usual {f['expected']:.4g} (z {f['z']:.1f})"
                         for f in bad) if bad else "every series within its usual range")
    return Reading(bool(bad), worst["z"], found["threshold_z"], summary, {"findings": bad})


BUILTIN: tuple[Rule, ...] = (
    Rule("success_rate_low", "critical", success_rate_low),
    Rule("latency_p95_high", "warning", latency_p95_high),
    Rule("queue_warning", "warning", queue_warning),
    Rule("queue_critical", "critical", queue_critical),
    Rule("worker_count_low", "critical", worker_count_low),
    Rule("worker_count_high", "warning", worker_count_high),
    Rule("wardens_high", "critical", wardens_high),
    Rule("canary_failed", "critical", canary_failed, pending=False),
    Rule("restart_limit", "critical", restart_limit, pending=False),
    Rule("anomaly", "warning", anomaly),
)
NAMES = tuple(rule.name for rule in BUILTIN)


def judge(rules: tuple[Rule, ...], sample: Sample, thresholds: Thresholds) -> dict[str, Reading | None]:
    """Every rule's reading of one sample."""
    return {rule.name: rule.check(sample, thresholds) for rule in rules}
