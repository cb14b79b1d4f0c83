"""Report figures against a hand count, on a real store (SQLite and PostgreSQL) with injected time.

One data set, built through the store's own API with every time chosen by
hand, so each figure the reports print can be worked out on paper (see the
comments in :func:`fill`). The same figures are then checked in the rendered
Markdown and JSON, not only in Python.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_backends import PgDatabase, open_backend, pg_available, wipe

from taskwarden import config as config_module
from taskwarden.config import Config
from taskwarden.errors import ConfigError
from taskwarden.reports import dashboard, loop_report, monitoring, schedule, scorecard
from taskwarden.reports.figures import gather
from taskwarden.store.base import Alert, Outcome, TaskSpec
from taskwarden.store.sql import SqlStore
from taskwarden.store.sqlite import SqliteStore

NOW = 1_800_000_000.0
READY = [0, 2, 25, 25, 3, 0]
WORKERS = [1, 1, 1, 0, 1, 1]
WARDENS = [1, 1, 1, 1, 1, 2]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    reason = pg_available()
    if reason:
        pytest.fail(reason)
    db = PgDatabase().create()
    try:
        yield db.url
    finally:
        db.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    s = open_backend(request.param, tmp_path / "taskwarden.db", url)
    wipe(s)
    yield s
    s.close()


def make_config(tmp_path: Path, **overrides: object) -> Config:
    return config_module.load(None, {"data_dir": str(tmp_path), **overrides}, environ={})


def finish(store: SqlStore, spec: TaskSpec, enq: float, wait: float, run: float, outcome: dict) -> None:
    [(task, _)] = store.enqueue([spec], enq)
    [leased] = store.lease("w1", 1, 60, enq + wait)
    assert leased.id == task.id
    store.finish("w1", [Outcome(task.id, **outcome)], enq + wait + run)


def fill(store: SqlStore) -> None:
    """14 judged tasks in the last hour: 9 succeeded, 2 failed, 3 dead.

    action ``a``: 10 tasks, wait 1 s, run i+1 s (total 2..11 s), timeout 10 s; the last two
    fail (TimeoutError, not retried). action ``b``: 4 tasks, wait 1 s, run 0.5 s; three die
    (ConnectError, one attempt). Totals sorted: 1.5 x4, 2..11 -> p50 = 4 (rank 7), p95 = p99 = 11.
    Not counted: a canary, and a task finished before the period.
    """
    for i in range(10):
        ok = i < 8
        finish(store, TaskSpec("a", timeout_s=10), NOW - 3000 + 20 * i, 1.0, i + 1.0,
               {"ok": True} if ok else {"ok": False, "error_class": "TimeoutError",
                                        "error_message": f"too slow <{i}>", "retryable": False})
    for i in range(4):
        finish(store, TaskSpec("b", max_attempts=1), NOW - 2500 + 10 * i, 1.0, 0.5,
               {"ok": True} if i == 0 else {"ok": False, "error_class": "ConnectError",
                                            "error_message": f"refused {i}"})
    finish(store, TaskSpec("smoke", canary=True), NOW - 900, 0.1, 0.1, {"ok": True})
    finish(store, TaskSpec("a"), NOW - 5000, 1.0, 1.0, {"ok": False, "error_class": "Old",
                                                         "retryable": False})
    for i, (ready, workers, wardens) in enumerate(zip(READY, WORKERS, WARDENS, strict=True)):
        store.add_sample("sample", {"queue": {"ready": ready}, "workers": {"alive": workers, "desired": 1},
                                    "wardens": {"alive": wardens}}, NOW - 600 + 100 * i)
    for i, ok in enumerate((True, True, False)):
        store.add_sample("canary", {"ok": ok, "round_trip_s": 0.2 * (i + 1), "error": None if ok else "x"},
                         NOW - 500 + 100 * i)
    for k in range(3):  # three restarts, one stray stopped: 4 automatic recoveries
        restart = {"from": "backoff", "to": "starting", "reason": "restart", "restarts": k + 1}
        store.record_event("process_state", "worker-0", restart, NOW - 700 + k)
    store.record_event("process_state", "worker-0", {"from": "starting", "to": "running",
                                                     "reason": "alive"}, NOW - 690)
    store.record_event("stray_stopped", "worker:4242", {}, NOW - 650)
    store.record_event("leases_expired", "server", {"tasks": [1, 2], "dead": []}, NOW - 640)
    store.record_event("baseline_learned", "monitor", {"success_rate_min": 0.8}, NOW - 630)
    store.record_event("task_dead", "task:12", {}, NOW - 620)  # not a healing act
    store.record_event("process_state", "worker-0", {"to": "starting", "reason": "restart"}, NOW - 9000)
    store.save_alert(Alert(None, "queue_critical", "critical", "resolved", NOW - 410, fired_at=NOW - 400,
                           resolved_at=NOW - 360, summary="25 tasks ready <b>"))
    store.save_alert(Alert(None, "success_rate_low", "critical", "firing", NOW - 110, fired_at=NOW - 100))
    store.save_alert(Alert(None, "latency_p95_high", "warning", "pending", NOW - 50))
    store.save_alert(Alert(None, "queue_warning", "warning", "resolved", NOW - 9000, fired_at=NOW - 8990,
                           resolved_at=NOW - 8000))


def test_figures_match_a_hand_count(store: SqlStore, tmp_path: Path) -> None:
    fill(store)
    f = gather(store, make_config(tmp_path), NOW, hours=1)
    assert f.outcomes == {"succeeded": 9, "failed": 2, "dead": 3, "judged": 14, "rate": 9 / 14}
    assert f.latency["total"] == {"p50": 4.0, "p95": 11.0, "p99": 11.0}
    own = store.latency_percentiles(NOW - 3600, [0.5, 0.95, 0.99])  # the store's own definition agrees
    assert [f.latency[s][k] for s in ("total", "wait", "run") for k in ("p50", "p95", "p99")] == \
        [v for s in ("total", "wait", "run") for v in own[s]]
    assert f.enqueued == 14
    assert sum(s["judged"] for s in f.series) == 14 and f.hourly_p95 == [11.0]
    a, b = sorted(f.actions, key=lambda r: r["action"])
    assert (a["succeeded"], a["failed"], a["errors"], a["run_p95"], a["timeout_s"]) == \
        (8, 2, {"TimeoutError": 2}, 10.0, 10.0)
    assert a["examples"] == {"TimeoutError": "too slow <9>"}
    assert (b["succeeded"], b["dead"], b["errors"]) == (1, 3, {"ConnectError": 3})
    assert [g["ready"] for g in f.gauges] == READY
    assert f.gauge_stats("ready") == {"mean": sum(READY) / 6, "min": 0, "max": 25}
    assert f.held("workers", 1) == 5 / 6 and f.held("wardens", 1) == 5 / 6
    assert (f.canary["runs"], f.canary["passed"]) == (3, 2)
    assert [(x["name"], x["duration_s"]) for x in f.alerts] == [("queue_critical", 40.0),
                                                                ("success_rate_low", 100.0)]
    assert [h["act"] for h in f.healing] == ["restart"] * 3 + ["stray_stopped", "leases_expired"]
    assert len(f.recoveries) == 4


def test_outputs_print_the_hand_counted_figures(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "taskwarden.db")
    fill(store)
    config = make_config(tmp_path)
    folder = tmp_path / "outputs" / "reports"
    (folder).mkdir(parents=True)
    (folder / "drill-20300101T000000.json").write_text(json.dumps({"alert_precision": 1.0,
                                                                   "alert_recall": 0.96}))
    f = gather(store, config, NOW, hours=1)

    text = monitoring.write(f, folder, "report-t").read_text()
    assert "| tasks finished (judged) | 14 — 9 succeeded, 2 failed, 3 dead |" in text
    assert "| success rate (period) | 64.3 % |" in text
    assert "| latency p50 / p95 / p99 | 4.00 s / 11.00 s / 11.00 s" in text
    assert "| queue size mean / max | 9.2 / 25 (6 samples) |" in text
    assert "| canary | 2/3 passed (66.7 %)" in text
    assert "| queue_critical | critical |" in text and "| 40s |" in text and "| 1m 40s |" in text
    assert "25 tasks ready &lt;b&gt;" in text and "too slow &lt;9&gt;" in text
    assert "| b | 4 | 3 | 25.0 % | ConnectError \u00d7 3 |" in text
    for chart in ("success_rate", "latency", "queue", "workers"):
        assert f"(report-t-{chart}.png)" in text
        assert (folder / f"report-t-{chart}.png").read_bytes().startswith(b"\x89PNG")

    loop_report.write(f, folder, "loop-t")
    doc = json.loads((folder / "loop-t.json").read_text())
    advised = doc["advised"]
    assert [a["subject"] for a in advised[:2]] == ["b", "a"]  # 3/14 of the rate lost, then 2/14
    assert advised[0]["impact"] == pytest.approx(3 / 14)
    assert "p95 run time is 100% of its 10s timeout: raise the timeout" in advised[1]["text"]
    assert doc["did"]["acts"] == {"restart": 3, "stray_stopped": 1, "leases_expired": 1}
    assert doc["learned"][0]["success_rate_min"] == 0.8
    assert doc["observed"]["alerts_by_name"] == {"queue_critical": 1, "success_rate_low": 1}

    card = {c.key: c for c in scorecard.score(f, config)}
    assert {k: c.status for k, c in card.items()} == {
        "success_rate": "fail", "workers": "fail", "recoveries": "pass", "queue_mean": "pass",
        "p95": "fail", "wardens": "fail", "canary": "fail", "dashboard": "fail", "alert_accuracy": "pass"}
    assert card["queue_mean"].measured == pytest.approx(sum(READY) / 6)
    assert card["alert_accuracy"].measured == 0.96
    relaxed = make_config(tmp_path, **{"reports.success_rate": 0.6, "reports.queue_mean": 9.0})
    card = {c.key: c for c in scorecard.score(f, relaxed)}  # targets come from the config
    assert (card["success_rate"].status, card["queue_mean"].status) == ("pass", "fail")
    store.close()


def test_before_and_after(tmp_path: Path) -> None:
    """The previous period had data: every criterion shows its value then."""
    store = SqliteStore(tmp_path / "taskwarden.db")
    fill(store)
    config = make_config(tmp_path)
    now = NOW + 3600
    for i in range(4):
        finish(store, TaskSpec("a"), now - 1000 + i, 0.1, 0.1, {"ok": True})
    f = gather(store, config, now, hours=1)
    before = gather(store, config, period=f.period.previous(), hours=1)
    path = scorecard.write(f, config, tmp_path, "card", before)
    doc = json.loads(path.with_suffix(".json").read_text())
    rate = next(c for c in doc["criteria"] if c["key"] == "success_rate")
    assert (rate["shown"], rate["status"]) == ("100.0% of 4 tasks", "pass")
    assert (rate["before"], rate["before_status"]) == ("64.3% of 14 tasks", "fail")
    assert "| before | result before |" in path.read_text()
    store.close()


def test_an_empty_store_says_no_data_yet(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "taskwarden.db")
    config = make_config(tmp_path)
    f = gather(store, config, NOW, hours=24)
    assert f.empty
    assert "No data yet" in monitoring.write(f, tmp_path, "r").read_text()
    assert "No data yet" in loop_report.write(f, tmp_path, "l").read_text()
    assert "no data yet" in dashboard.html_page(f).lower()
    statuses = {c.key: c.status for c in scorecard.score(f, config)}
    assert set(statuses.values()) == {"no data"}
    store.close()


def test_hourly_schedule_keeps_n_sets_and_copies_latest(tmp_path: Path) -> None:
    config = make_config(tmp_path, **{"reports.keep": 2, "time_scale": 60.0})  # an hour is 60 s
    store = SqliteStore(tmp_path / "taskwarden.db")
    fill(store)
    folder = schedule.reports_dir(config)
    made = []
    for step, now in enumerate((NOW, NOW + 30, NOW + 60, NOW + 61, NOW + 125, NOW + 190)):
        if schedule.maybe_generate(config, store, now):
            made.append(step)
    assert made == [0, 2, 4, 5]  # due once per 60 real seconds; not before
    stamps = sorted({p.name.split("-", 1)[1][:20] for p in folder.glob("scorecard-*.json")})
    assert stamps == [schedule.stamp(NOW + 125), schedule.stamp(NOW + 190)]  # the last 2 kept
    assert len(list(folder.glob("report-*.md"))) == 2 and len(list(folder.glob("report-*.png"))) == 8
    newest = schedule.stamp(NOW + 190)
    assert (folder / "latest.md").read_bytes() == (folder / f"report-{newest}.md").read_bytes()
    assert (folder / "latest.html").read_bytes() == (folder / f"dashboard-{newest}.html").read_bytes()
    assert (folder / "latest-scorecard.json").read_bytes() == \
        (folder / f"scorecard-{newest}.json").read_bytes()
    assert not (folder / "latest.md").is_symlink()
    assert (tmp_path / "outputs" / "dashboard.html").exists()
    events = store.events(kind="reports_generated")
    assert [e.at for e in events] == [NOW, NOW + 60, NOW + 125, NOW + 190]
    # The scorecard of the next set sees an hourly (here: every 60 s) generation.
    f = gather(store, config, NOW + 200, hours=2)
    card = {c.key: c for c in scorecard.score(f, config)}
    assert card["dashboard"].status == "pass", card["dashboard"].shown
    store.close()


def test_reports_config_is_validated(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    assert (config.reports.report_s, config.reports.keep, config.reports.success_rate) == (3600.0, 24, 0.85)
    scaled = make_config(tmp_path, time_scale=60.0)
    assert scaled.seconds(scaled.reports.report_s) == 60.0
    for key, value, allowed in (("reports.success_rate", 1.5, "a ratio from 0 to 1"),
                                ("reports.keep", 0, "a whole number >= 1"),
                                ("reports.report_s", 0, "greater than 0")):
        with pytest.raises(ConfigError, match=allowed) as caught:
            make_config(tmp_path, **{key: value})
        assert caught.value.key == key


def test_alert_accuracy_reads_the_newest_drill_all_over_a_newer_single_drill(tmp_path: Path) -> None:
    from taskwarden.reports.scorecard import latest_drill

    def put(name: str, precision: float, mtime: float) -> None:
        path = tmp_path / name
        path.write_text(json.dumps({"alert_precision": precision, "alert_recall": 1.0}))
        os.utime(path, (mtime, mtime))

    put("drill-all-20300101T000000Z.json", 0.5, 1_000)
    put("drill-all-20300102T000000Z.json", 0.97, 2_000)
    put("drill-server-crash-20300103T000000Z.json", 0.1, 3_000)  # newer, but a single drill
    doc, name = latest_drill(tmp_path)
    assert (name, doc["alert_precision"]) == ("drill-all-20300102T000000Z.json", 0.97)

    for path in tmp_path.glob("drill-all-*"):
        path.unlink()
    put("drill-crash-20300104T000000Z.json", 0.8, 500)  # older file, name sorts first
    doc, name = latest_drill(tmp_path)
    assert name == "drill-server-crash-20300103T000000Z.json"
