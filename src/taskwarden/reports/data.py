"""The reports' one query layer: period figures counted by the store's database in SQL.

Every report covers a period ``[start, end)``, and a 24 h period may hold
100,000 tasks or more, so nothing here loads tasks into Python to count them:
each figure is one ``GROUP BY`` (percentiles use window functions) over the
indexed ``finished_at`` column. The queries are written in the SQL subset that
SQLite and PostgreSQL share and go through the store's own connection and
placeholder translation; only the "whole bucket number" expression differs.

Percentiles are nearest-rank, as :meth:`Store.latency_percentiles` defines
them: the value at rank ``ceil(q * n)``. Comparing ``rn * 1000 >= q_permille * n``
in integers picks that rank exactly, with no floating-point rounding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from taskwarden.errors import TaskwardenError
from taskwarden.store.base import Alert, Event, Store

#: Percentile name -> permille, for the integer rank test.
PERMILLE = {"p50": 500, "p95": 950, "p99": 990}
JUDGED = "state IN ('succeeded', 'failed', 'dead')"
SPANS = {"total": "finished_at - enqueued_at", "wait": "started_at - enqueued_at",
         "run": "finished_at - started_at"}
#: The events the reports read: what the system observed, did and learned.
REPORT_EVENTS = (
    "process_state", "process_killed", "backoff_reset", "alert_fired", "alert_resolved",
    "leases_released", "leases_expired", "stray_worker", "stray_stopped", "stray_killed",
    "orphan_stopped", "canary_passed", "canary_failed", "baseline_learned", "warden_started",
    "server_started", "reports_generated",
)


@dataclass(frozen=True)
class Period:
    """A half-open span of wall-clock seconds ``[start, end)``."""

    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one, for before/after."""
        return Period(self.start - self.length, self.start)


class ReportData:
    """Read-only figures of one store. Needs an SQL store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        if not hasattr(store, "_query"):
            raise TaskwardenError(f"reports need an SQL store; {type(store).__name__} is not one")
        self.store = store
        # SQLite's CAST truncates, PostgreSQL's rounds: floor() is the portable "whole bucket".
        sqlite = type(store).__name__.startswith("Sqlite")
        self._whole = "CAST(({}) AS INTEGER)" if sqlite else "CAST(floor({}) AS INTEGER)"

    def _q(self, text: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self.store._query(text, params)  # type: ignore[attr-defined]

    # -- tasks -----------------------------------------------------------
    def outcomes(self, p: Period, canary: bool = False) -> dict[str, int]:
        """Judged outcomes of tasks finished in the period (zeros included)."""
        counts = {"succeeded": 0, "failed": 0, "dead": 0}
        counts.update(dict(self._q(
            f"SELECT state, count(*) FROM tasks WHERE finished_at >= ? AND finished_at < ?"
            f" AND canary = ? AND {JUDGED} GROUP BY state", (p.start, p.end, int(canary)))))
        return counts

    def enqueued(self, p: Period) -> int:
        """Non-canary tasks enqueued in the period, whatever became of them."""
        return self._q("SELECT count(*) FROM tasks WHERE enqueued_at >= ? AND enqueued_at < ?"
                       " AND canary = 0", (p.start, p.end))[0][0]

    def latency(self, p: Period) -> dict[str, dict[str, float | None]]:
        """p50/p95/p99 of total, wait and run seconds of tasks finished in the period."""
        out = {}
        for span, expr in SPANS.items():
            rows = self._percentiles(expr, "0", p)
            out[span] = rows[0][1] if rows else dict.fromkeys(PERMILLE)
        return out

    def latency_series(self, p: Period, width: float) -> dict[int, dict[str, Any]]:
        """Per bucket of ``width`` seconds: judged counts and total-latency percentiles."""
        bucket = self._whole.format(f"(finished_at - {float(p.start)!r}) / {float(width)!r}")
        series: dict[int, dict[str, Any]] = {}
        for b, figures in self._percentiles(SPANS["total"], bucket, p):
            series[int(b)] = {**figures, "succeeded": 0, "failed": 0, "dead": 0}
        for b, state, n in self._q(
                f"SELECT {bucket} AS b, state, count(*) FROM tasks WHERE finished_at >= ?"
                f" AND finished_at < ? AND canary = 0 AND {JUDGED} GROUP BY b, state", (p.start, p.end)):
            series.setdefault(int(b), {**dict.fromkeys(PERMILLE), "succeeded": 0, "failed": 0,
                                       "dead": 0})[state] = n
        return dict(sorted(series.items()))

    def _percentiles(self, expr: str, group: str, p: Period) -> list[tuple[Any, dict[str, float | None]]]:
        """Nearest-rank percentiles of ``expr`` per value of ``group``, in one sorted pass."""
        picks = ", ".join(f"min(CASE WHEN rn * 1000 >= {pm} * n THEN d END)" for pm in PERMILLE.values())
        rows = self._q(
            f"SELECT g, {picks} FROM (SELECT {group} AS g, {expr} AS d,"
            f" row_number() OVER (PARTITION BY {group} ORDER BY {expr}) AS rn,"
            f" count(*) OVER (PARTITION BY {group}) AS n FROM tasks"
            f" WHERE finished_at >= ? AND finished_at < ? AND canary = 0 AND started_at IS NOT NULL"
            f" AND {JUDGED}) AS ranked GROUP BY g ORDER BY g", (p.start, p.end))
        return [(row[0], dict(zip(PERMILLE, row[1:], strict=True))) for row in rows]

    def actions(self, p: Period) -> dict[str, dict[str, Any]]:
        """Per action: judged outcomes, error classes with the newest message of each, the p95
        run time and the largest timeout, so advice can compare the two."""
        out: dict[str, dict[str, Any]] = {}
        for action, state, n in self._q(
                f"SELECT action, state, count(*) FROM tasks WHERE finished_at >= ? AND finished_at < ?"
                f" AND canary = 0 AND {JUDGED} GROUP BY action, state", (p.start, p.end)):
            entry = out.setdefault(action, {"succeeded": 0, "failed": 0, "dead": 0, "errors": {},
                                            "examples": {}, "run_p95": None, "timeout_s": None})
            entry[state] = n
        newest: dict[int, tuple[str, str]] = {}
        for action, cls, n, last_id in self._q(
                "SELECT action, error_class, count(*), max(id) FROM tasks WHERE finished_at >= ?"
                " AND finished_at < ? AND canary = 0 AND state IN ('failed', 'dead')"
                " GROUP BY action, error_class", (p.start, p.end)):
            out[action]["errors"][cls or "unknown"] = n
            newest[last_id] = (action, cls or "unknown")
        if newest:
            marks = ", ".join("?" * len(newest))
            for tid, message in self._q(f"SELECT id, error_message FROM tasks WHERE id IN ({marks})",
                                        tuple(newest)):
                action, cls = newest[tid]
                out[action]["examples"][cls] = message or ""
        for action, figures in self._percentiles(SPANS["run"], "action", p):
            out[action]["run_p95"] = figures["p95"]
        for action, timeout in self._q(
                f"SELECT action, max(timeout_s) FROM tasks WHERE finished_at >= ? AND finished_at < ?"
                f" AND canary = 0 AND {JUDGED} GROUP BY action", (p.start, p.end)):
            out[action]["timeout_s"] = timeout
        return out

    # -- the monitor's and the warden's records -------------------------
    def samples(self, kind: str, p: Period) -> list[tuple[float, dict[str, Any]]]:
        """``(at, data)`` of every sample of that kind taken in the period, oldest first."""
        rows = self._q("SELECT at, data FROM samples WHERE kind = ? AND at >= ? AND at < ? ORDER BY at",
                       (kind, p.start, p.end))
        return [(at, json.loads(data)) for at, data in rows]

    def events(self, p: Period, kinds: tuple[str, ...] = REPORT_EVENTS) -> list[Event]:
        """Events of the given kinds in the period (plus any ``anomaly*`` kind), oldest first."""
        marks = ", ".join("?" * len(kinds))
        rows = self._q(f"SELECT id, at, kind, subject, detail FROM events WHERE at >= ? AND at < ?"
                       f" AND (kind IN ({marks}) OR kind LIKE ?) ORDER BY id",
                       (p.start, p.end, *kinds, "anomaly%"))
        return [Event(id=r[0], at=r[1], kind=r[2], subject=r[3], detail=json.loads(r[4])) for r in rows]

    def alerts(self, p: Period) -> list[Alert]:
        """Alerts that fired and were active at some moment of the period, oldest first."""
        found = self.store.alerts(active=None, since=p.start - 30 * p.length, limit=10_000)
        return sorted((a for a in found if a.fired_at is not None and a.fired_at < p.end
                       and (a.resolved_at is None or a.resolved_at >= p.start)),
                      key=lambda a: (a.fired_at or 0.0, a.id or 0))

    def last_event_id(self) -> int:
        """The newest event's id (0 when none): where a live page's event stream starts."""
        return self._q("SELECT coalesce(max(id), 0) FROM events")[0][0]
