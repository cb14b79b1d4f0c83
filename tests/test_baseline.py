"""The baseline on a recorded 6 h (time-scaled) normal period in a real SQLite store.

The samples are made here, an alert period and one latency spike among them,
so the test can redo the documented method by hand (statistics module, the
same samples, the alert period and the spike left out) and compare.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from taskwarden import config as config_module
from taskwarden.cli import app
from taskwarden.client import Client
from taskwarden.config import Config
from taskwarden.monitor import baseline
from taskwarden.monitor.loop import Monitor
from taskwarden.monitor.rules import BUILTIN, Thresholds
from taskwarden.store.base import Alert
from taskwarden.store.sqlite import SqliteStore

SCALE = 60.0  # 6 h of samples are 360 real seconds; a sample every configured minute is 1 s real
ENV = {"TASKWARDEN_TIME_SCALE": str(SCALE)}
SPIKE_AT = 100


def make_config(data_dir: Path) -> Config:
    return config_module.load(environ={**ENV, "TASKWARDEN_DATA_DIR": str(data_dir)})


def sample(rng: random.Random, success: float, p95: float, ready: int) -> dict[str, Any]:
    def window(rate: float) -> dict[str, Any]:
        return {"rate": rate, "succeeded": round(rate * 100), "failed": 100 - round(rate * 100), "dead": 0,
                "judged": 100}

    return {"success_rate": {"1h": window(success), "6h": window(min(1.0, success + rng.gauss(0, 0.005))),
                             "24h": window(min(1.0, success + rng.gauss(0, 0.003))),
                             "short": window(success), "long": window(success)},
            "latency": {"total": {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.2}},
            "queue": {"ready": ready, "by_state": {}}, "workers": {"alive": 1, "desired": 1, "busy": 0},
            "wardens": {"alive": 1}, "throughput": {"per_minute": 10.0}, "actions": {},
            "last_canary": None, "restart_alerts": []}


def record(store: SqliteStore, now: float, hours: float, seed: int = 7) -> tuple[list[dict], tuple]:
    """Samples every real second over ``hours`` (scaled) ending at ``now``; an incident from sample
    200 to 219 (success 20 %, with a stored firing-then-resolved alert) and one latency spike."""
    rng = random.Random(seed)
    n = int(hours * 3600 / SCALE)
    start = now - n + 1
    docs = []
    for i in range(n):
        incident = 200 <= i < 220
        doc = sample(rng, 0.2 if incident else min(1.0, rng.gauss(0.93, 0.02)),
                     30.0 if i == SPIKE_AT else rng.gauss(0.6, 0.05), rng.choice((0, 0, 1, 2, 3)))
        store.add_sample("sample", doc, start + i)
        docs.append((start + i, doc))
    fired, resolved = start + 200, start + 219.5
    store.save_alert(Alert(None, "success_rate_low", "critical", "resolved", fired - 1, fired_at=fired,
                           resolved_at=resolved))
    return docs, (fired, resolved)


@pytest.fixture
def recorded(tmp_path: Path) -> Any:
    config = make_config(tmp_path)
    store = SqliteStore(tmp_path / "taskwarden.db")
    now = time.time()
    docs, incident = record(store, now, hours=6.5)
    yield config, store, now, docs, incident
    store.close()


def test_thresholds_match_a_hand_computation_on_the_same_samples(recorded: Any) -> None:
    config, store, now, docs, (fired, resolved) = recorded
    doc = baseline.learn(store, config, now, hours=6.5)

    normal = [d for at, d in docs if not fired <= at <= resolved]
    assert doc["samples"] == {"kept": len(normal), "dropped_for_alerts": 20}
    for window in ("1h", "6h", "24h"):
        rates = [d["success_rate"][window]["rate"] for d in normal]
        mean, sd = statistics.mean(rates), statistics.stdev(rates)
        learned = doc["success_rate"][window]
        assert learned["mean"] == pytest.approx(mean) and learned["stdev"] == pytest.approx(sd)
        assert learned["threshold"] == pytest.approx(max(mean - 2 * sd, 0.70))
    assert doc["success_rate"]["1h"]["threshold"] > 0.85  # learned, well above the 70 % floor

    latencies = [d["latency"]["total"]["p95"] for d in normal]
    clean = [x for x in latencies if x != 30.0]  # the spike: >5 robust z-scores out
    assert len(clean) == len(latencies) - 1
    p95 = statistics.quantiles(clean, n=20, method="inclusive")[18]
    sd = statistics.stdev(clean)
    assert doc["latency_p95"]["dropped"] == 1
    assert doc["latency_p95"]["threshold"] == pytest.approx(p95 + 2 * sd)

    ready = [d["queue"]["ready"] for d in normal]
    med = statistics.median(ready)
    mad = statistics.median(abs(x - med) for x in ready)
    assert doc["queue"]["normal_max"] == int(-(-(med + 3 * 1.4826 * mad) // 1))
    assert doc["workers"] == {"target": 1, "desired": 1}
    t = doc["thresholds"]
    assert t["success_rate_min"] == pytest.approx(doc["success_rate"]["1h"]["threshold"])
    assert t["p95_latency_max_s"] == 5.0  # p95 + 2 sigma is ~0.8 s: the default stays the floor
    assert t["queue_warning"] >= 6 and t["queue_critical"] >= 21


def test_the_cli_writes_both_files_and_records_the_event(recorded: Any, tmp_path: Path) -> None:
    _config, store, *_ = recorded
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "baseline", "--hours", "6.5"], env=ENV)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "baseline.json").read_text())
    md = (tmp_path / "baseline.md").read_text()
    assert f"{doc['thresholds']['success_rate_min']:.1%}" in md and "max(mean - 2 sigma, 70 %)" in md
    learned = store.events(kind="baseline_learned")
    assert len(learned) == 1 and learned[0].detail["samples"] == doc["samples"]["kept"]


def test_too_little_data_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "taskwarden.db")
    record(store, time.time(), hours=5.0)
    store.close()
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "baseline"], env=ENV)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert "not enough normal data" in text and "at least 6 h are needed" in text
    assert not (tmp_path / "baseline.json").exists()


def test_the_rules_switch_to_the_learned_thresholds_with_defaults_as_floors(recorded: Any) -> None:
    config, store, now, *_ = recorded
    monitor = Monitor(config, store, client=Client("http://127.0.0.1:9"))
    assert monitor.thresholds() == Thresholds.from_config(config.monitor)
    rule = next(r for r in BUILTIN if r.name == "success_rate_low")
    dip = sample(random.Random(1), 0.80, 0.5, 0)  # 80 %: fine by the default, low for this system
    assert not rule.check(dip, monitor.thresholds()).breached

    doc = baseline.learn_and_write(store, config, now, 6.5, lambda *a: None)
    learned = monitor.thresholds()
    assert learned.success_rate_min == pytest.approx(doc["success_rate"]["1h"]["threshold"])
    assert rule.check(dip, learned).breached

    bad_week = {**doc, "success_rate": {"1h": {"threshold": 0.5}}, "latency_p95": {"threshold": 1.0}}
    floors = baseline.apply(Thresholds.from_config(config.monitor), bad_week)
    assert floors.success_rate_min == 0.70 and floors.p95_latency_max_s == 5.0


def test_the_monitor_learns_by_itself_once_enough_data_exists(recorded: Any) -> None:
    config, store, now, *_ = recorded
    monitor = Monitor(config, store, client=Client("http://127.0.0.1:9"))
    monitor.tick(now + 1)
    assert (config.data_dir / "baseline.json").exists()
    assert [e.kind for e in store.events(kind="baseline_learned")] == ["baseline_learned"]
    monitor.tick(now + 2)  # once a (scaled) day, not every sample
    assert len(store.events(kind="baseline_learned")) == 1
    assert monitor.thresholds().success_rate_min > 0.85
