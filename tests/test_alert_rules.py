"""The rules and the pending/hold engine on injected time: hours of samples, no sleeping."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest

from taskwarden.config import MonitorConfig
from taskwarden.monitor.engine import Engine
from taskwarden.monitor.rules import BUILTIN, Reading, Rule, Thresholds, judge
from taskwarden.monitor.sampler import restart_alerts

T0 = 1_700_000_000.0
STEP = 60.0  # one sample a minute, as by default
HOLD = 300.0
DEFAULT = Thresholds()


def window(succeeded: int, failed: int = 0, dead: int = 0) -> dict[str, Any]:
    judged = succeeded + failed + dead
    return {"succeeded": succeeded, "failed": failed, "dead": dead, "judged": judged,
            "rate": succeeded / judged if judged else None}


def sample(short: tuple[int, int] = (20, 0), long: tuple[int, int] = (100, 0), ready: int = 0,
           alive: int = 1, desired: int = 1, wardens: int = 1, p95: float | None = 0.1,
           canary: dict[str, Any] | None = None, restarts: list[dict[str, Any]] | None = None
           ) -> dict[str, Any]:
    return {"queue": {"ready": ready, "by_state": {"queued": ready}},
            "workers": {"alive": alive, "desired": desired, "busy": 0},
            "wardens": {"alive": wardens},
            "success_rate": {"short": window(*short), "long": window(*long), "1h": window(*long)},
            "latency": {"total": {"p50": p95, "p95": p95, "p99": p95}},
            "last_canary": canary, "restart_alerts": restarts or []}


def rule(name: str) -> Rule:
    return next(r for r in BUILTIN if r.name == name)


def breach(on: bool) -> dict[str, Reading | None]:
    return {"x": Reading(on, float(on), 0.5, "x")}


X = Rule("x", "warning", lambda s, t: None)


def run(engine: Engine, pattern: list[bool], start: float = T0) -> list[tuple[float, str]]:
    """Feed one reading per step; the (time, transition) pairs."""
    out = []
    for i, on in enumerate(pattern):
        now = start + i * STEP
        out += [(now, tr.kind) for tr in engine.evaluate(now, breach(on))]
    return out


# -- the engine ----------------------------------------------------------------
def test_a_single_bad_sample_goes_pending_and_never_pages() -> None:
    engine = Engine((X,), pending_s=STEP, hold_s=HOLD)
    assert [k for _, k in run(engine, [False, True, False, False])] == ["pending", "canceled"]


def test_a_lasting_breach_fires_after_the_pending_duration_then_resolves_after_the_hold() -> None:
    engine = Engine((X,), pending_s=STEP, hold_s=HOLD)
    got = run(engine, [True, True, True, False, False, False, False, False, False, False])
    assert got == [(T0, "pending"), (T0 + STEP, "fired"), (T0 + 8 * STEP, "resolved")]


def test_scheduling_jitter_does_not_cost_a_whole_extra_interval() -> None:
    engine = Engine((X,), pending_s=STEP, hold_s=0.0, slack_s=STEP / 4)
    assert engine.evaluate(T0, breach(True))[0].kind == "pending"
    assert engine.evaluate(T0 + STEP - 0.01, breach(True))[0].kind == "fired"


def test_a_rule_without_pending_fires_on_its_first_breach() -> None:
    engine = Engine((Rule("x", "critical", X.check, pending=False),), pending_s=STEP, hold_s=0.0)
    assert run(engine, [True, False]) == [(T0, "fired"), (T0 + STEP, "resolved")]


def test_a_breach_during_the_hold_keeps_it_firing_and_a_recovery_is_announced_once() -> None:
    engine = Engine((X,), pending_s=0.0, hold_s=HOLD)
    pattern = [True] + [False] * 4 + [True] + [False] * 10
    kinds = [k for _, k in run(engine, pattern)]
    assert kinds == ["fired", "resolved"]


@pytest.mark.parametrize("pending_samples", [0, 1])
@pytest.mark.parametrize("pattern", ["alternate", "two_on_one_off", "random"])
def test_flapping_input_fires_at_most_once_per_hold_period(pattern: str, pending_samples: int) -> None:
    """Success rate oscillating around 70 % every sample, through the real success-rate rule."""
    rng = random.Random(4)
    shapes = {"alternate": lambda i: i % 2 == 0, "two_on_one_off": lambda i: i % 3 != 2,
              "random": lambda i: rng.random() < 0.5}
    engine = Engine((rule("success_rate_low"),), pending_s=pending_samples * STEP, hold_s=HOLD,
                    slack_s=STEP / 4)
    fires: list[float] = []
    resolves: list[float] = []
    for i in range(24 * 60):  # a day of samples
        now = T0 + i * STEP
        bad = shapes[pattern](i)
        rate = (13, 7) if bad else (15, 5)  # 65 % or 75 %, in both windows
        readings = judge((rule("success_rate_low"),), sample(short=rate, long=rate), DEFAULT)
        for tr in engine.evaluate(now, readings):
            (fires if tr.kind == "fired" else resolves if tr.kind == "resolved" else []).append(now)
        if i == 24 * 60 // 2 and pattern != "random":
            assert fires or pending_samples, "a sustained flap must page at least once"
    for a, b in itertools.pairwise(fires):
        assert b - a >= HOLD
    assert len(resolves) <= len(fires)


def test_restore_carries_a_firing_alert_over_a_restart_without_firing_again() -> None:
    engine = Engine((X,), pending_s=STEP, hold_s=0.0)
    engine.restore("x", "firing", T0 - 600)
    assert engine.evaluate(T0, breach(True)) == []
    assert [tr.kind for tr in engine.evaluate(T0 + STEP, breach(False))] == ["resolved"]


# -- the rules -------------------------------------------------------------------
def test_success_rate_needs_both_windows_to_breach() -> None:
    check = rule("success_rate_low").check
    assert check(sample(short=(0, 20), long=(0, 20)), DEFAULT).breached
    assert not check(sample(short=(0, 20), long=(900, 20)), DEFAULT).breached  # a blip
    assert not check(sample(short=(20, 0), long=(0, 100)), DEFAULT).breached  # recovered
    reading = check(sample(short=(5, 15), long=(50, 50)), DEFAULT)
    assert reading.value == 0.25 and reading.threshold == 0.70


def test_windows_with_too_few_tasks_are_not_judged() -> None:
    check = rule("success_rate_low").check
    assert check(sample(short=(0, 9), long=(0, 100)), DEFAULT) is None
    assert check(sample(short=(0, 0), long=(0, 100)), DEFAULT) is None
    assert check(sample(short=(0, 9), long=(0, 9)), Thresholds(min_judged=5)).breached


def test_queue_levels_warning_from_6_critical_from_21() -> None:
    levels = {n: (rule("queue_warning").check(sample(ready=n), DEFAULT).breached,
                  rule("queue_critical").check(sample(ready=n), DEFAULT).breached)
              for n in (5, 6, 20, 21, 100)}
    assert levels == {5: (False, False), 6: (True, False), 20: (True, False), 21: (True, True),
                      100: (True, True)}


def test_worker_counts_zero_included_and_wardens() -> None:
    low, high = rule("worker_count_low").check, rule("worker_count_high").check
    assert low(sample(alive=0), DEFAULT).breached and not high(sample(alive=0), DEFAULT).breached
    assert not low(sample(alive=1), DEFAULT).breached and not high(sample(alive=1), DEFAULT).breached
    assert high(sample(alive=2), DEFAULT).breached
    assert low(sample(alive=2, desired=3), DEFAULT).breached
    assert rule("wardens_high").check(sample(wardens=2), DEFAULT).breached
    assert not rule("wardens_high").check(sample(wardens=1), DEFAULT).breached


def test_latency_and_canary() -> None:
    latency = rule("latency_p95_high").check
    assert latency(sample(p95=6.0), DEFAULT).breached and not latency(sample(p95=4.0), DEFAULT).breached
    assert latency(sample(p95=None), DEFAULT) is None
    assert latency(sample(p95=60.0, long=(3, 0)), DEFAULT) is None  # too few tasks to judge
    canary = rule("canary_failed").check
    assert canary(sample(canary=None), DEFAULT) is None
    assert canary(sample(canary={"ok": False, "state": "timeout", "error": "late"}), DEFAULT).breached
    assert not canary(sample(canary={"ok": True, "state": "succeeded"}), DEFAULT).breached


def test_restart_limit_reads_the_wardens_firing_files_only(tmp_path: Path) -> None:
    (tmp_path / "rpa_worker_alert.json").write_text(json.dumps(
        {"component": "rpa_worker", "status": "firing", "reason": "6 restarts", "fired_at": T0}))
    (tmp_path / "server_alert.json").write_text(json.dumps({"component": "server", "status": "resolved"}))
    (tmp_path / "monitor_alert.json").write_text("{half a docu")
    (tmp_path / "alert_queue_warning.json").write_text(json.dumps({"status": "firing"}))
    firing = restart_alerts(tmp_path)
    assert [f["component"] for f in firing] == ["rpa_worker"]
    reading = rule("restart_limit").check(sample(restarts=firing), DEFAULT)
    assert reading.breached and "rpa_worker" in reading.summary
    assert not rule("restart_limit").check(sample(), DEFAULT).breached


def test_thresholds_come_from_config_and_a_baseline_never_goes_below_the_defaults() -> None:
    t = Thresholds.from_config(MonitorConfig(success_rate_min=0.8, queue_warning=3, queue_critical=9))
    assert (t.success_rate_min, t.queue_warning, t.queue_critical) == (0.8, 3, 9)
    learned = DEFAULT.with_baseline(success_rate_min=0.5, p95_latency_max_s=9.0)
    assert learned.success_rate_min == 0.70 and learned.p95_latency_max_s == 9.0
    assert DEFAULT.with_baseline(success_rate_min=0.93).success_rate_min == 0.93
    strict = Thresholds(success_rate_min=0.95)
    assert rule("success_rate_low").check(sample(short=(18, 2), long=(90, 10)), strict).breached
