"""Synthetic monitor samples with labelled, injected anomalies (for ``bench/anomaly.py`` and tests).

Each series is a week of samples shaped like the monitor's own (``latency``,
``throughput``, ``success_rate``, ``actions``), with what real RPA traffic has:
a daily cycle (busy office hours, quiet nights), load-dependent latency,
Poisson counts and binomial failures. At most one anomaly is injected per
series, and its interval is the label:

* ``latency_shift``: p95 latency x2 to x3 (e.g. 0.4 s to 1 s, far under the 5 s rule) for 2-6 h;
* ``throughput_decline``: throughput slides linearly to 45-55 % of normal over 6 h, then stays 2 h;
* ``action_failure``: one action's failure rate climbs from 3 % to 25-35 % within an hour and
  stays 3 h, while the total success rate stays above the 70 % rule.

Deterministic for a seed, stdlib only.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

HOUR = 3600.0
DAY = 24 * HOUR
T0 = 1_700_006_400.0  # a UTC midnight, so hour-of-day is easy to read
KINDS = ("latency_shift", "throughput_decline", "action_failure")
ACTIONS = {"browser.run": 0.3, "http.request": 0.7}  # share of traffic
BASE_FAILURE = {"browser.run": 0.03, "http.request": 0.01}


@dataclass(frozen=True)
class Anomaly:
    kind: str
    start: float
    end: float
    metric: str  # the detector series it should show in


@dataclass(frozen=True)
class Generated:
    samples: list[tuple[float, dict[str, Any]]]
    anomaly: Anomaly | None


def _daily(at: float) -> float:
    """Traffic factor: 1.6 at 14:00, 0.4 at 02:00."""
    hour = (at % DAY) / HOUR
    return 1.0 + 0.6 * math.sin(2 * math.pi * (hour - 8) / 24)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n > 100:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    return sum(rng.random() < p for _ in range(n))


def _pick_anomaly(rng: random.Random, kind: str | None, days: float) -> Anomaly | None:
    if kind is None:
        return None
    # A slow throughput decline hides in a +-60 % daily cycle until the seasonal reference
    # exists (two days); the other kinds show against the plain robust reference too.
    first = 2.2 if kind == "throughput_decline" else 0.5
    start = T0 + rng.uniform(first, days - 1.0) * DAY
    length = {"latency_shift": rng.uniform(2, 6), "throughput_decline": 8.0,
              "action_failure": 4.0}[kind] * HOUR
    metric = {"latency_shift": "latency_p95", "throughput_decline": "throughput",
              "action_failure": "failure_rate:browser.run"}[kind]
    return Anomaly(kind, start, start + length, metric)


def generate(seed: int, kind: str | None, days: float = 7.0, step_s: float = 300.0) -> Generated:
    """A week (``days``) of samples every ``step_s``, with one anomaly of ``kind`` (or none)."""
    rng = random.Random(seed)
    anomaly = _pick_anomaly(rng, kind, days)
    factor = rng.uniform(2.0, 3.0)  # latency shift size
    floor = rng.uniform(0.45, 0.55)  # throughput after the decline
    peak = rng.uniform(0.25, 0.35)  # browser.run failure at its worst
    base_rate = rng.uniform(15, 30)  # tasks per minute at an average hour
    base_p95 = rng.uniform(0.3, 0.8)
    hour_counts: list[tuple[float, dict[str, tuple[int, int]]]] = []
    samples = []
    at = T0
    while at < T0 + days * DAY:
        into = (at - anomaly.start) if anomaly and anomaly.start <= at < anomaly.end else None
        load = _daily(at)
        throughput = base_rate * load
        if into is not None and anomaly and anomaly.kind == "throughput_decline":
            throughput *= 1 - (1 - floor) * min(1.0, into / (6 * HOUR))
        finished = _poisson(rng, throughput * step_s / 60)
        outcomes = {}
        for action, share in ACTIONS.items():
            n = _binomial(rng, finished, share)
            p_fail = BASE_FAILURE[action]
            if into is not None and anomaly and anomaly.kind == "action_failure" and action == "browser.run":
                p_fail += (peak - p_fail) * min(1.0, into / HOUR)
            outcomes[action] = (n, _binomial(rng, n, p_fail))
        hour_counts.append((at, outcomes))
        hour_counts = [(t, o) for t, o in hour_counts if at - t < HOUR]
        p95 = base_p95 * (0.85 + 0.15 * load) * rng.lognormvariate(0, 0.08)
        if into is not None and anomaly and anomaly.kind == "latency_shift":
            p95 *= factor
        samples.append((at, _sample(at, finished / (step_s / 60), p95, hour_counts)))
        at += step_s
    return Generated(samples, anomaly)


def _sample(at: float, per_minute: float, p95: float,
            hour_counts: list[tuple[float, dict[str, tuple[int, int]]]]) -> dict[str, Any]:
    actions = {}
    total_n = total_fail = 0
    for action in ACTIONS:
        n = sum(o[action][0] for _, o in hour_counts)
        failed = sum(o[action][1] for _, o in hour_counts)
        total_n, total_fail = total_n + n, total_fail + failed
        actions[action] = {"succeeded": n - failed, "failed": failed, "dead": 0, "judged": n,
                           "rate": (n - failed) / n if n else None}
    rate = (total_n - total_fail) / total_n if total_n else None
    return {"at": at, "latency": {"total": {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.3}},
            "throughput": {"per_minute": round(per_minute, 3)},
            "success_rate": {"1h": {"succeeded": total_n - total_fail, "failed": total_fail, "dead": 0,
                                    "judged": total_n, "rate": rate}},
            "actions": actions}
