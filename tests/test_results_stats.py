"""/api/results and /api/stats agree with a hand count of the same tasks."""

from __future__ import annotations

import math

from stackutil import Stack

MIX = ([{"action": "noop"}] * 9
       + [{"action": "fail", "params": {"retryable": False}}] * 2
       + [{"action": "invalid_action"}]
       + [{"action": "fail", "max_attempts": 2}] * 2
       + [{"action": "sleep", "params": {"seconds": 0.05}}] * 3)


def test_results_and_stats_match_a_hand_count(stack: Stack) -> None:
    running = stack
    running.start_server()
    canceled = running.client.enqueue("noop")
    assert running.client.cancel(canceled["id"])["state"] == "canceled"
    tasks = running.client.enqueue_batch(MIX)
    running.start_worker(0)
    canary = running.client.enqueue("smoke", canary=True)
    finals = [running.wait_task(t["id"], ("succeeded", "failed", "dead")) for t in tasks]
    running.wait_task(canary["id"])
    everything = running.client.list_tasks(limit=1000)

    judged = [t for t in everything if t["state"] in ("succeeded", "failed", "dead") and not t["canary"]]
    ok = sum(t["state"] == "succeeded" for t in judged)
    assert (ok, len(judged)) == (12, 17)  # 9 noop + 3 sleep succeed; 2 + 1 failed; 2 dead

    results = running.client.results(20)
    newest_first = sorted((t for t in everything if t["finished_at"] and not t["canary"]),
                          key=lambda t: (t["finished_at"], t["id"]), reverse=True)
    assert [r["id"] for r in results["results"]] == [t["id"] for t in newest_first[:20]]
    assert results["succeeded"] == ok and results["failed"] == 3 and results["dead"] == 2
    assert math.isclose(results["success_rate"], 12 / 17)

    last5 = running.client.results(5)
    window = newest_first[:5]
    judged5 = [t for t in window if t["state"] in ("succeeded", "failed", "dead")]
    expected5 = sum(t["state"] == "succeeded" for t in judged5) / len(judged5)
    assert math.isclose(last5["success_rate"], expected5)

    stats = running.client.stats()
    for window_name in ("1h", "6h", "24h"):
        rate = stats["success_rate"][window_name]
        assert (rate["succeeded"], rate["failed"], rate["dead"]) == (12, 3, 2)
        assert math.isclose(rate["rate"], 12 / 17)
    assert stats["canary"]["succeeded"] == 1
    assert stats["queue"]["by_state"] == {"queued": 0, "running": 0, "succeeded": 13, "failed": 3,
                                          "dead": 2, "canceled": 1}
    assert (stats["workers"]["alive"], stats["workers"]["desired"]) == (1, 1)

    totals = sorted(t["finished_at"] - t["enqueued_at"] for t in judged)
    p95_rank = math.ceil(round(0.95 * len(totals), 9))
    assert math.isclose(stats["latency"]["total"]["p95"], totals[p95_rank - 1], rel_tol=1e-9)
    assert len(finals) == len(MIX)

