"""The anomaly detector on injected time: what fixed thresholds miss, what it must not flag,
and a small run of the labelled benchmark (``bench/anomaly.py``) through the monitor's engine."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

from taskwarden.monitor.anomaly import COLD_START_H, Detector
from taskwarden.monitor.engine import Engine
from taskwarden.monitor.rules import BUILTIN, Thresholds, judge

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import anomaly as bench
from series import KINDS, generate

HOUR, STEP = 3600.0, 60.0
T0 = 1_700_006_400.0


def sample(p95: float, per_minute: float = 20.0, actions: dict[str, Any] | None = None,
           rate: float = 0.97) -> dict[str, Any]:
    w = {"succeeded": round(rate * 200), "failed": 200 - round(rate * 200), "dead": 0, "judged": 200,
         "rate": rate}
    return {"latency": {"total": {"p50": p95 / 2, "p95": p95, "p99": p95}},
            "throughput": {"per_minute": per_minute},
            "success_rate": {"1h": w, "short": w, "long": w}, "queue": {"ready": 0, "by_state": {}},
            "workers": {"alive": 1, "desired": 1}, "wardens": {"alive": 1}, "actions": actions or {},
            "last_canary": None, "restart_alerts": []}


def feed(detector: Detector, engine: Engine, at: float, s: dict[str, Any]) -> dict[str, Any]:
    s["anomalies"] = detector.observe_sample(at, s)
    readings = judge(BUILTIN, s, Thresholds())
    return {"readings": readings, "transitions": engine.evaluate(at, readings)}


def test_a_latency_level_shift_no_fixed_threshold_catches_raises_an_anomaly_alert() -> None:
    rng = random.Random(3)
    detector, engine = Detector(HOUR), Engine(BUILTIN, pending_s=STEP, hold_s=5 * STEP, slack_s=STEP / 4)
    at, fired_at = T0, None
    for i in range(12 * 60):  # 10 h at ~0.4 s, then 2 h at ~1.2 s: a tripling, far under 5 s
        shifted = i >= 10 * 60
        p95 = (1.2 if shifted else 0.4) * rng.lognormvariate(0, 0.08)
        out = feed(detector, engine, at, sample(p95))
        assert not out["readings"]["latency_p95_high"].breached
        if not shifted:
            assert not any(t.kind == "fired" for t in out["transitions"]), (i, out["transitions"])
        elif fired_at is None and any(t.rule.name == "anomaly" and t.kind == "fired"
                                      for t in out["transitions"]):
            fired_at = at
            reading = out["readings"]["anomaly"]
            assert [f["metric"] for f in reading.detail["findings"]] == ["latency_p95"]
        at += STEP
    assert fired_at is not None
    assert fired_at - (T0 + 10 * HOUR) <= 5 * STEP  # level of 5 samples + one pending sample


def test_cold_start_judges_nothing_and_a_single_spike_flags_nothing() -> None:
    rng = random.Random(4)
    detector = Detector(HOUR)
    for i in range(int(COLD_START_H * 60) + 120):
        p95 = 6.0 if i == 400 else rng.gauss(0.5, 0.03)
        found = detector.observe_sample(T0 + i * STEP, sample(p95))
        if i * STEP < COLD_START_H * HOUR:
            assert found is None
        else:
            assert found is not None and not any(f["anomalous"] for f in found["findings"])


def test_one_action_failing_more_is_flagged_while_the_total_looks_fine() -> None:
    detector = Detector(HOUR)
    flagged_at = None
    for i in range(10 * 60):
        bad = 0.30 if i >= 8 * 60 else 0.02
        actions = {"browser.run": {"judged": 100, "rate": 1 - bad},
                   "http.request": {"judged": 900, "rate": 0.99}}
        total = (100 * (1 - bad) + 900 * 0.99) / 1000
        s = sample(0.5, actions=actions, rate=total)
        s["anomalies"] = detector.observe_sample(T0 + i * STEP, s)
        assert total >= 0.9 and not judge(BUILTIN, s, Thresholds())["success_rate_low"].breached
        found = s["anomalies"]
        bad_ones = [f["metric"] for f in (found or {}).get("findings", []) if f["anomalous"]]
        if i < 8 * 60:
            assert not bad_ones
        elif bad_ones and flagged_at is None:
            flagged_at = i
            assert bad_ones == ["failure_rate:browser.run"]
    assert flagged_at is not None and flagged_at - 8 * 60 <= 5


def test_after_two_days_a_quiet_night_is_compared_with_other_nights() -> None:
    detector, modes, flagged = Detector(HOUR), set(), []
    for i in range(4 * 24 * 12):  # four days every 5 minutes; nights have a third of the traffic
        at = T0 + i * 300
        hour = (at % 86400) / HOUR
        per_minute = (30.0 if 8 <= hour < 18 else 10.0) * random.Random(i).uniform(0.95, 1.05)
        found = detector.observe_sample(at, sample(0.5, per_minute=per_minute))
        for f in (found or {}).get("findings", []):
            if f["metric"] == "throughput":
                modes.add(f["mode"])
                if f["anomalous"] and at - T0 >= 2 * 86400:
                    flagged.append(at)
    assert "seasonal" in modes and not flagged


@pytest.mark.parametrize("kind", [*KINDS, None])
def test_the_benchmark_finds_each_kind_of_injected_anomaly_without_false_alerts(kind: str | None) -> None:
    for seed in (101, 102):
        score = bench.score(generate(seed, kind, days=4.0, step_s=bench.STEP_S))
        assert score.alerts == score.true_alerts, f"false alert on {kind} seed {seed}"
        assert score.found == score.anomalies, f"missed {kind} seed {seed}"
