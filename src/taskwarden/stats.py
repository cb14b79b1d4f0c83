"""The figures of DESIGN.md's "Metrics", computed from the store.

success rate = succeeded / (succeeded + failed + dead) over tasks finished in
the window, canaries counted separately; latency = finished - enqueued, split
into wait and run; worker count = workers with a fresh heartbeat; queue size =
tasks ready in ``queued``. Windows shrink with the time scale.
"""

from __future__ import annotations

from typing import Any

from taskwarden.config import Config
from taskwarden.store.base import Store, WorkerInfo

WINDOWS = {"1h": 3600.0, "6h": 6 * 3600.0, "24h": 24 * 3600.0}
QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def success_rate(counts: dict[str, int]) -> float | None:
    """None when nothing was judged: an empty window is not a 0 % window."""
    judged = counts["succeeded"] + counts["failed"] + counts["dead"]
    return counts["succeeded"] / judged if judged else None


def alive(last_heartbeat: float, now: float, config: Config) -> bool:
    return now - last_heartbeat <= config.liveness_seconds(config.warden.stale_heartbeat_s)


def live(store: Store, role: str, config: Config, now: float) -> list[WorkerInfo]:
    """Processes of a role with a fresh heartbeat that have not said they stopped."""
    return [w for w in store.workers(role)
            if w.status != "stopped" and alive(w.last_heartbeat, now, config)]


def snapshot(store: Store, config: Config, now: float) -> dict[str, Any]:
    """Everything ``GET /api/stats`` answers, in one dict."""
    rates = {}
    for name, seconds in WINDOWS.items():
        counts = store.outcome_counts(now - config.seconds(seconds))
        rates[name] = {"rate": success_rate(counts), **counts}
    canary = store.outcome_counts(now - config.seconds(WINDOWS["24h"]), canary=True)
    latency = store.latency_percentiles(now - config.seconds(WINDOWS["1h"]), list(QUANTILES.values()))
    live_workers = live(store, "worker", config, now)
    live_wardens = live(store, "warden", config, now)
    return {
        "at": now,
        "queue": {"ready": store.ready_count(now), "by_state": store.state_counts()},
        "workers": {"alive": len(live_workers), "desired": config.warden.workers,
                    "busy": sum(1 for w in live_workers if w.status == "busy")},
        "wardens": {"alive": len(live_wardens)},
        "success_rate": rates,
        "canary": {"rate": success_rate(canary), **canary},
        "latency": {span: dict(zip(QUANTILES, values, strict=True))
                    for span, values in latency.items()},
    }
