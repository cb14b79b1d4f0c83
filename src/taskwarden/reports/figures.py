"""Everything the reports show about one period, gathered once into :class:`Figures`.

The report, the dashboard, the loop report and the scorecard all read the same
:class:`Figures`, so they cannot disagree about a number. Task figures come
from :mod:`taskwarden.reports.data` (SQL over the tasks); gauges that only exist
at a moment (queue size, workers and wardens alive) come from the monitor's
samples; what the system did comes from the events.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from taskwarden import stats
from taskwarden.config import Config
from taskwarden.reports.data import Period, ReportData
from taskwarden.store.base import Event, Store

#: About this many points per chart: 30-minute buckets over 24 h.
CHART_POINTS = 48
HOUR_S = 3600.0


@dataclass
class Figures:
    period: Period
    generated_at: float
    hours: float
    outcomes: dict[str, Any]
    windows: dict[str, dict[str, Any]]
    enqueued: int
    latency: dict[str, dict[str, float | None]]
    bucket_s: float
    series: list[dict[str, Any]]
    hourly_p95: list[float]
    gauges: list[dict[str, Any]]
    canary: dict[str, Any]
    actions: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    healing: list[dict[str, Any]]
    events: list[Event]
    thresholds: dict[str, float]
    samples_taken: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Nothing to report: no task finished, no sample taken, nothing happened."""
        return not self.outcomes["judged"] and not self.gauges and not self.events

    def gauge_stats(self, key: str) -> dict[str, float | None]:
        values = [g[key] for g in self.gauges if g.get(key) is not None]
        if not values:
            return {"mean": None, "min": None, "max": None}
        return {"mean": statistics.fmean(values), "min": min(values), "max": max(values)}

    def held(self, key: str, target: int) -> float | None:
        """Share of samples in which ``key`` was exactly ``target`` (None without samples)."""
        values = [g[key] for g in self.gauges if g.get(key) is not None]
        return sum(1 for v in values if v == target) / len(values) if values else None

    @property
    def recoveries(self) -> list[dict[str, Any]]:
        """Automatic recoveries: restarts of dead or hung children and strays stopped."""
        return [h for h in self.healing if h["act"] in RECOVERY_ACTS]


RECOVERY_ACTS = ("restart", "stray_stopped", "orphan_stopped")


def judged(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "judged": counts["succeeded"] + counts["failed"] + counts["dead"],
            "rate": stats.success_rate(counts)}


def gather(store: Store, config: Config, end: float | None = None, hours: float = 24.0,
           period: Period | None = None) -> Figures:
    """Figures of the ``hours`` (configured, so time-scaled) before ``end``."""
    end = time.time() if end is None else end
    p = period or Period(end - config.seconds(hours * HOUR_S), end)
    data = ReportData(store)
    width = max(p.length / CHART_POINTS, 1e-3)
    series = [{"t": p.start + b * width, **row, **_rate(row)}
              for b, row in data.latency_series(p, width).items()]
    hourly = [row["p95"] for row in data.latency_series(p, config.seconds(HOUR_S)).values()
              if row["p95"] is not None]
    events = data.events(p)
    return Figures(
        period=p, generated_at=time.time(), hours=hours,
        outcomes=judged(data.outcomes(p)),
        windows={name: judged(data.outcomes(Period(p.end - config.seconds(s), p.end)))
                 for name, s in stats.WINDOWS.items()},
        enqueued=data.enqueued(p), latency=data.latency(p), bucket_s=width, series=series,
        hourly_p95=hourly, gauges=[gauge(at, s) for at, s in data.samples("sample", p)],
        canary=_canary(data.samples("canary", p)),
        actions=_actions(data.actions(p)), alerts=_alerts(data, p), healing=_healing(events),
        events=events, thresholds=thresholds_in_force(config))


def thresholds_in_force(config: Config) -> dict[str, float]:
    """The alert thresholds the monitor uses now: a learned ``baseline.json`` when one is
    readable (defaults as floors, as the monitor applies it), else the configured defaults."""
    from taskwarden.monitor.baseline import apply, paths
    from taskwarden.monitor.rules import Thresholds

    t = Thresholds.from_config(config.monitor)
    # No baseline learned yet (or unreadable): the monitor uses the defaults too.
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        t = apply(t, json.loads(paths(config)[0].read_text()))
    return {"success_rate_min": t.success_rate_min, "queue_warning": t.queue_warning,
            "queue_critical": t.queue_critical, "p95_latency_max_s": t.p95_latency_max_s}


def _rate(row: dict[str, Any]) -> dict[str, Any]:
    n = row["succeeded"] + row["failed"] + row["dead"]
    return {"judged": n, "rate": row["succeeded"] / n if n else None}


def gauge(at: float, s: dict[str, Any]) -> dict[str, Any]:
    """The moment-in-time figures of one monitor sample; missing parts stay None."""
    def dig(*keys: str) -> Any:
        value: Any = s
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return {"at": at, "ready": dig("queue", "ready"), "workers": dig("workers", "alive"),
            "desired": dig("workers", "desired"), "wardens": dig("wardens", "alive"),
            "rate_1h": dig("success_rate", "1h", "rate"), "p95": dig("latency", "total", "p95")}


def _canary(samples: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    runs = [{"at": at, **s} for at, s in samples]
    passed = sum(1 for r in runs if r.get("ok"))
    trips = [r["round_trip_s"] for r in runs if r.get("ok") and r.get("round_trip_s") is not None]
    return {"runs": len(runs), "passed": passed, "rate": passed / len(runs) if runs else None,
            "mean_round_trip_s": statistics.fmean(trips) if trips else None,
            "failures": [r for r in runs if not r.get("ok")]}


def _actions(raw: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per action, worst first: most failed-or-dead tasks, then lowest success rate."""
    rows = [{"action": name, **judged(row), **{k: row[k] for k in ("errors", "examples", "run_p95",
                                                                   "timeout_s")}}
            for name, row in raw.items()]
    for row in rows:
        row["failures"] = row["failed"] + row["dead"]
    return sorted(rows, key=lambda r: (-r["failures"], r["rate"] or 0.0, r["action"]))


def _alerts(data: ReportData, p: Period) -> list[dict[str, Any]]:
    out = []
    for a in data.alerts(p):
        fired = a.fired_at or a.started_at
        until = a.resolved_at if a.resolved_at is not None else p.end
        out.append({"name": a.name, "severity": a.severity, "state": a.state, "fired_at": fired,
                    "resolved_at": a.resolved_at, "duration_s": max(0.0, until - fired),
                    "summary": a.summary, "value": a.value, "threshold": a.threshold})
    return out


def _healing(events: list[Event]) -> list[dict[str, Any]]:
    """The warden's and the server's healing acts among the events, in plain words."""
    acts = []
    for e in events:
        act = _act(e)
        if act is not None:
            acts.append({"at": e.at, "act": act[0], "subject": e.subject, "what": act[1], "id": e.id})
    return acts


def _act(e: Event) -> tuple[str, str] | None:
    d = e.detail
    if e.kind == "process_state" and d.get("reason") == "restart":
        return "restart", f"restarted {e.subject} (restart #{d.get('restarts', '?')})"
    if e.kind == "process_state" and d.get("to") == "stopping" and (
            str(d.get("reason", "")).startswith(("hung", "no sign of life"))):
        return "hung_stopped", f"stopped {e.subject}: {d.get('reason')}"
    if e.kind == "process_killed":
        return "killed", f"killed {e.subject} (pid {d.get('pid')}) after {d.get('after_s')}s grace"
    if e.kind == "leases_released" and d.get("count_attempt"):
        return "leases_released", f"released {len(d.get('tasks', []))} lease(s) of {e.subject}"
    if e.kind == "leases_expired":
        return "leases_expired", f"requeued {len(d.get('tasks', []))} task(s) whose lease expired"
    if e.kind in ("stray_stopped", "stray_killed", "orphan_stopped"):
        return e.kind, f"{e.kind.replace('_', ' ')}: {e.subject}"
    return None
