"""Anomaly detection over the sampled series: what fixed thresholds miss.

A fixed threshold says "p95 above 5 s"; it cannot see p95 going from 0.4 s to
1.5 s, throughput sliding 40 % over an afternoon, or one action's failures
climbing from 2 % to 30 % while the total stays above 70 %. Each of those is
a change against the series' *own* normal, which is what this module judges.

For each series (p95 latency, throughput, each action's failure rate), at every sample:

* **level**: the median of the last :data:`SMOOTH` values, so one odd sample never flags;
* **reference**: earlier levels, flagged ones included. Once the
  history spans :data:`SEASONAL_DAYS` days the reference is the same time of day
  (+-20 minutes) on earlier days (a quiet night is then compared with other nights); before
  that, the last day (only then is a whole daily cycle in the reference);
* **robust z**: ``direction * (level - median) / max(1.4826 * MAD, floor)``,
  median and MAD because the reference may itself hold spikes a mean would follow;
* **anomalous** when ``z >= Z`` *and* the change is large enough to matter
  (:attr:`Series.min_effect`: relative for latency and throughput, absolute
  for a failure rate), so a very flat series does not page over a trifle.

Cold start: with less than :data:`COLD_START_H` hours or :data:`MIN_REFERENCE`
reference values, a series is not judged at all ("no evidence never pages").
Flagged levels stay in the reference on purpose: an incident shorter than
half the reference (half a day, or most of the same hours on earlier days)
cannot move its median, while a pattern the robust mode mistook for an
incident (the first evenings of an office-hours workload, before the seasonal
reference exists) becomes normal instead of alerting forever. Each point
keeps its verdict for the record and for a restarted monitor's replay.

The findings are attached to each sample (``sample["anomalies"]``); the
``anomaly`` rule in :mod:`rules` reads them, so anomalies go through the same
pending / firing / resolved engine as every other alert.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any

SMOOTH = 5
Z = 4.0
MIN_REFERENCE = 30
MIN_SEASONAL = 12  # values from the same time of day on earlier days
SEASONAL_WINDOW_H = 1 / 3  # "the same time of day": within 20 minutes of it
BUCKETS_PER_HOUR = 6
COLD_START_H = 6.0
SEASONAL_DAYS = 2
KEEP_DAYS = 8
MAD_TO_SIGMA = 1.4826
MIN_JUDGED = 10


@dataclass(frozen=True)
class Kind:
    """How one kind of series is judged: which way is bad and what change matters."""

    direction: int  # +1: up is bad, -1: down is bad
    min_effect: float
    relative: bool
    floor: float  # smallest scale (absolute), so a flat reference cannot make z explode


LATENCY = Kind(+1, 0.40, True, 0.02)
THROUGHPUT = Kind(-1, 0.30, True, 0.05)
FAILURE = Kind(+1, 0.10, False, 0.02)


@dataclass(frozen=True)
class Finding:
    metric: str
    value: float
    expected: float
    z: float
    anomalous: bool
    mode: str  # robust | seasonal

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": round(self.value, 6), "expected": round(self.expected, 6),
                "z": round(self.z, 3), "anomalous": self.anomalous, "mode": self.mode}


@dataclass
class Series:
    """One metric's history and the judgement of each new value.

    Points are also filed by ten minutes of the day, so the seasonal reference (the same
    time of day +-20 minutes on earlier days) is five buckets rather than a scan of a week.
    The window is narrow on purpose: office hours start with a step, and a wider window
    would compare 07:55 with 08:15.
    """

    name: str
    kind: Kind
    hour_s: float
    points: deque[tuple[float, float, bool]] = field(default_factory=deque)  # (at, value, flagged)
    buckets: dict[int, deque[tuple[float, float, bool]]] = field(default_factory=dict)
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=SMOOTH))

    def add(self, at: float, value: float | None, flagged: bool | None = None) -> Finding | None:
        """Judge ``value`` taken at ``at`` against the history, then keep it. None: not judged.

        ``flagged`` given (a replay of stored samples) keeps that earlier verdict instead of
        judging again: a restarted monitor must not spend minutes recomputing a week."""
        if value is None:
            return None
        self.recent.append(value)
        finding = None
        if flagged is None:
            finding = self._judge(at) if len(self.recent) == SMOOTH else None
            flagged = bool(finding and finding.anomalous)
        # The reference holds levels (medians of SMOOTH), not raw values: a level is compared
        # with how much levels vary, which is about half of how much single samples do.
        point = (at, statistics.median(self.recent), flagged)
        self.points.append(point)
        self.buckets.setdefault(self._bucket(at), deque()).append(point)
        horizon = at - KEEP_DAYS * 24 * self.hour_s
        while self.points and self.points[0][0] < horizon:
            old = self.points.popleft()
            self.buckets[self._bucket(old[0])].popleft()
        return finding

    def _bucket(self, at: float) -> int:
        return int((at % (24 * self.hour_s)) // (self.hour_s / BUCKETS_PER_HOUR))

    def _reference(self, at: float) -> tuple[list[float], str]:
        day = 24 * self.hour_s
        if not self.points or at - self.points[0][0] < COLD_START_H * self.hour_s:
            return [], "cold"
        if at - self.points[0][0] >= SEASONAL_DAYS * day:
            here, window = self._bucket(at), SEASONAL_WINDOW_H * self.hour_s
            near = range(here - 2, here + 3)  # 10-minute buckets: covers +-20 minutes
            same = [v for b in near for t, v, _ in self.buckets.get(b % (24 * BUCKETS_PER_HOUR), ())
                    if at - t >= day / 2 and min((at - t) % day, day - (at - t) % day) <= window]
            if len(same) >= MIN_SEASONAL:
                return same, "seasonal"
        recent = []
        for t, v, _ in reversed(self.points):
            if at - t > day:
                break
            recent.append(v)
        return recent, "robust"

    def _judge(self, at: float) -> Finding | None:
        reference, mode = self._reference(at)
        if len(reference) < (MIN_SEASONAL if mode == "seasonal" else MIN_REFERENCE):
            return None
        level = statistics.median(self.recent)
        med = statistics.median(reference)
        mad = statistics.median(abs(v - med) for v in reference)
        k = self.kind
        scale = max(MAD_TO_SIGMA * mad, k.floor * (abs(med) if k.relative else 1.0), 1e-9)
        z = k.direction * (level - med) / scale
        if k.relative:
            effect = k.direction * (level - med) / abs(med) if med else 0.0
        else:
            effect = k.direction * (level - med)
        return Finding(self.name, level, med, z, z >= Z and effect >= k.min_effect, mode)


def extract(sample: dict[str, Any]) -> dict[str, tuple[Kind, float | None]]:
    """The series values one monitor sample holds (None where there is too little to judge)."""
    out: dict[str, tuple[Kind, float | None]] = {}
    judged_1h = (sample.get("success_rate", {}).get("1h") or {}).get("judged", 0)
    p95 = (sample.get("latency", {}).get("total") or {}).get("p95")
    out["latency_p95"] = (LATENCY, p95 if judged_1h >= MIN_JUDGED else None)
    out["throughput"] = (THROUGHPUT, (sample.get("throughput") or {}).get("per_minute"))
    for action, counts in (sample.get("actions") or {}).items():
        rate = counts.get("rate")
        ok = rate is not None and counts.get("judged", 0) >= MIN_JUDGED
        out[f"failure_rate:{action}"] = (FAILURE, 1.0 - rate if ok else None)
    return out


class Detector:
    """Every series of the monitor's samples; feed it each sample in time order."""

    def __init__(self, hour_s: float) -> None:
        self.hour_s = hour_s
        self.series: dict[str, Series] = {}

    def observe(self, at: float, values: dict[str, tuple[Kind, float | None]]) -> list[Finding]:
        findings = []
        for name, (kind, value) in values.items():
            series = self.series.setdefault(name, Series(name, kind, self.hour_s))
            found = series.add(at, value)
            if found is not None:
                findings.append(found)
        return findings

    def replay(self, at: float, sample: dict[str, Any]) -> None:
        """Add a stored sample to the history with the verdicts it was stored with."""
        stored = sample.get("anomalies") or {}
        flagged = {f["metric"] for f in stored.get("findings", []) if f.get("anomalous")}
        for name, (kind, value) in extract(sample).items():
            series = self.series.setdefault(name, Series(name, kind, self.hour_s))
            series.add(at, value, flagged=name in flagged)

    def observe_sample(self, at: float, sample: dict[str, Any]) -> dict[str, Any] | None:
        """``sample["anomalies"]`` for this sample; None while every series is still cold."""
        findings = self.observe(at, extract(sample))
        if not findings:
            return None
        return {"threshold_z": Z, "findings": [f.to_dict() for f in findings]}
