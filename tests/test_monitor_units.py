"""The monitor's parts in one process: config, webhooks, a tick over a real SQLite store."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from monitorutil import closed_port_url, hanging_server, receiver
from stackutil import wait_for

from taskwarden import config as config_module
from taskwarden.client import Client
from taskwarden.errors import ConfigError
from taskwarden.monitor.loop import Monitor
from taskwarden.monitor.notifiers import Notifier
from taskwarden.store.base import Outcome, TaskSpec
from taskwarden.store.sqlite import SqliteStore

FIRED = {"event": "alert_fired", "name": "queue_critical", "severity": "critical", "status": "firing",
         "summary": "30 tasks ready in the queue; critical at 21", "value": 30.0, "threshold": 21.0}


@pytest.mark.parametrize(("env", "key"), [
    ({"TASKWARDEN_MONITOR_SUCCESS_RATE_MIN": "1.5"}, "monitor.success_rate_min"),
    ({"TASKWARDEN_MONITOR_QUEUE_CRITICAL": "6"}, "monitor.queue_critical"),
    ({"TASKWARDEN_MONITOR_SAMPLE_S": "0"}, "monitor.sample_s"),
    ({"TASKWARDEN_MONITOR_WEBHOOKS": "ftp://x"}, "monitor.webhooks"),
    ({"TASKWARDEN_MONITOR_SUCCESS_SHORT_S": "7200"}, "monitor.success_short_s"),
])
def test_bad_monitor_settings_name_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_module.load(environ=env)
    assert caught.value.key == key


def test_monitor_settings_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "taskwarden.toml"
    path.write_text('[monitor]\nsample_s = 15\nwebhooks = ["http://hooks.local/a"]\n'
                    'slack_webhooks = ["https://hooks.slack.com/services/x"]\n')
    m = config_module.load(path, environ={}).monitor
    assert (m.sample_s, m.webhooks, m.slack_webhooks) == (
        15.0, ("http://hooks.local/a",), ("https://hooks.slack.com/services/x",))


def test_webhooks_get_generic_and_slack_bodies_and_dead_ones_never_block_the_sender() -> None:
    with receiver() as hook, hanging_server() as hang:
        notifier = Notifier((f"{hook.url}/generic", closed_port_url(), hang), (f"{hook.url}/slack",),
                            timeout_s=5.0, retries=2)
        notifier.start()
        began = time.monotonic()
        for _ in range(3):
            notifier.send(FIRED)
        assert time.monotonic() - began < 0.1
        wait_for(lambda: len(hook.bodies("/generic")) == 3 and len(hook.bodies("/slack")) == 3,
                 timeout=10, message="deliveries to the live receiver")
        assert hook.bodies("/generic")[0] == FIRED
        text = hook.bodies("/slack")[0]["text"]
        assert "queue_critical" in text and "FIRING" in text and "critical" in text
        began = time.monotonic()
        notifier.stop(timeout_s=0.5)
        assert time.monotonic() - began < 2


def test_a_failing_webhook_is_retried(tmp_path: Path) -> None:
    with receiver() as hook:
        flaky = Notifier((closed_port_url(), f"{hook.url}/ok"), timeout_s=1.0, retries=1)
        flaky.start()
        flaky.send(FIRED)
        wait_for(lambda: hook.bodies("/ok"), timeout=10, message="the live delivery")
        wait_for(lambda: flaky.delivered == 1, timeout=10, message="delivered count")
        flaky.stop(0.1)


def make_monitor(tmp_path: Path, store: SqliteStore) -> Monitor:
    config = config_module.load(overrides={"data_dir": str(tmp_path), "monitor.sample_s": 1.0,
                                           "monitor.hold_s": 10.0, "monitor.pending_samples": 1},
                                environ={})
    # Nothing listens at the client's URL: a tick never needs the server.
    return Monitor(config, store, client=Client("http://127.0.0.1:9", timeout=0.5))


def success_fires(store: SqliteStore) -> list[object]:
    return [e for e in store.events(kind="alert_fired") if e.subject == "alert:success_rate_low"]


def test_a_tick_stores_a_sample_fires_writes_the_file_and_a_new_monitor_does_not_refire(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "taskwarden.db")
    now = time.time()
    store.enqueue([TaskSpec("bad") for _ in range(12)], now)
    leased = store.lease("w", 12, 60.0, now)
    store.finish("w", [Outcome(t.id, ok=False, error_class="ActionError", error_message="unknown",
                               retryable=False) for t in leased], now)
    monitor = make_monitor(tmp_path, store)
    assert [t.kind for t in monitor.tick(now) if t.rule.name == "success_rate_low"] == ["pending"]
    assert [t.kind for t in monitor.tick(now + 1) if t.rule.name == "success_rate_low"] == ["fired"]

    sample = store.latest_sample("sample")
    assert sample is not None and sample.data["success_rate"]["last20"]["failed"] == 12
    assert sample.data["actions"]["bad"]["errors"] == {"ActionError": 12}
    doc = json.loads((tmp_path / "outputs" / "alerts" / "alert_success_rate_low.json").read_text())
    assert doc["status"] == "firing" and doc["detail"]["judged_short"] == 12
    assert len(success_fires(store)) == 1

    again = make_monitor(tmp_path, store)  # e.g. restarted by the warden
    for alert in again.book.load():
        again.engine.restore(alert.name, alert.state, alert.started_at)
    assert not [t for t in again.tick(now + 2) if t.rule.name == "success_rate_low"]
    assert len(success_fires(store)) == 1
    store.close()


def test_samples_past_retention_are_pruned(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "taskwarden.db")
    now = time.time()
    store.add_sample("sample", {"old": True}, now - 8 * 24 * 3600)
    store.add_sample("canary", {"ok": True}, now - 8 * 24 * 3600)
    make_monitor(tmp_path, store).tick(now)
    assert [s.data.get("old") for s in store.samples("sample")] == [None]
    assert store.samples("canary") == []
    store.close()
