"""``GET /metrics`` parses with the official parser and agrees with ``GET /api/stats``."""

from __future__ import annotations

import math

import httpx
from prometheus_client.parser import text_string_to_metric_families
from stackutil import Stack

from taskwarden.monitor.rules import NAMES
from taskwarden.stats import QUANTILES


def scrape(stack: Stack) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = httpx.get(f"{stack.url}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        assert family.name.startswith("taskwarden_")
        for s in family.samples:
            found.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return found


def one(found: dict, name: str, **labels: str) -> float:
    return found[name][tuple(sorted(labels.items()))]


def test_metrics_parse_and_agree_with_stats(running: Stack) -> None:
    stack = running
    ids = [t["id"] for t in stack.client.enqueue_batch(
        [{"action": "noop"}] * 7 + [{"action": "fail", "params": {"retryable": False}}] * 3)]
    for tid in ids:
        stack.wait_task(tid, ("succeeded", "failed"))
    found, stats = scrape(stack), stack.client.stats()  # nothing moves now: both see the same store
    for state, n in stats["queue"]["by_state"].items():
        assert one(found, "taskwarden_queue_tasks", state=state) == n
    assert one(found, "taskwarden_queue_ready_tasks") == stats["queue"]["ready"]
    for window, figures in stats["success_rate"].items():
        assert math.isclose(one(found, "taskwarden_success_ratio", window=window), figures["rate"])
        for state in ("succeeded", "failed", "dead"):
            assert one(found, "taskwarden_finished_tasks", window=window, state=state) == figures[state]
    assert one(found, "taskwarden_finished_tasks", window="1h", state="failed") == 3
    assert math.isclose(one(found, "taskwarden_success_ratio", window="short"), 0.7)
    for span, quantiles in stats["latency"].items():
        for name, value in quantiles.items():
            assert math.isclose(one(found, "taskwarden_latency_seconds", span=span,
                                    quantile=str(QUANTILES[name])), value)
    assert one(found, "taskwarden_workers_alive") == stats["workers"]["alive"] == 1
    assert one(found, "taskwarden_workers_desired") == stats["workers"]["desired"] == 1
    assert one(found, "taskwarden_wardens_alive") == stats["wardens"]["alive"] == 0
    assert one(found, "taskwarden_action_finished_tasks", action="fail", state="failed") == 3
    assert one(found, "taskwarden_action_errors", action="fail", error_class="ActionError") == 3
    firing = found["taskwarden_alerts_firing"]
    assert {dict(labels)["name"] for labels in firing} == set(NAMES)
    assert set(firing.values()) == {0.0}


def test_metrics_on_an_empty_store_leave_undefined_figures_out(stack: Stack) -> None:
    stack.start_server()
    found = scrape(stack)
    assert "taskwarden_success_ratio" not in found and "taskwarden_latency_seconds" not in found
    assert one(found, "taskwarden_workers_alive") == 0
    assert one(found, "taskwarden_queue_ready_tasks") == 0
