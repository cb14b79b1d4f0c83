"""The monitor's part of the SQL store: summaries, samples and alerts.

Kept beside :mod:`taskwarden.store.sql` (which mixes it into ``SqlStore``) so
the queue's own queries stay readable on their own. Every summary is one
``GROUP BY`` over indexed columns: the monitor samples every minute for days
and must never load tasks into Python to count them.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

from taskwarden import states
from taskwarden.store.base import Alert, Sample

ALERT_COLUMNS = ("id, name, severity, state, started_at, fired_at, resolved_at, value, threshold,"
                 " summary, detail, history")
JUDGED_IN = "state IN ('succeeded', 'failed', 'dead')"


def alert_from_row(row: Any) -> Alert:
    (aid, name, severity, state, started, fired, resolved, value, threshold, summary, detail,
     history) = row
    return Alert(id=aid, name=name, severity=severity, state=state, started_at=started,
                 fired_at=fired, resolved_at=resolved, value=value, threshold=threshold,
                 summary=summary, detail=json.loads(detail), history=json.loads(history))


class MonitorQueries:
    """Mixed into ``SqlStore``; relies on its ``_tx``, ``_all`` and ``_query``."""

    def _tx(self, write: bool = True) -> AbstractContextManager[Any]:  # pragma: no cover
        raise NotImplementedError

    def _all(self, cur: Any, text: str, params: tuple[Any, ...] = ()) -> list[Any]:  # pragma: no cover
        raise NotImplementedError

    def _query(self, text: str, params: tuple[Any, ...] = ()) -> list[Any]:  # pragma: no cover
        raise NotImplementedError

    # -- summaries -----------------------------------------------------
    def recent_outcomes(self, count: int) -> dict[str, int]:
        counts = dict.fromkeys(states.JUDGED, 0)
        rows = self._query(
            "SELECT state, count(*) FROM (SELECT state FROM tasks WHERE finished_at IS NOT NULL"
            f" AND canary = 0 AND {JUDGED_IN} ORDER BY finished_at DESC, id DESC LIMIT ?) AS recent"
            " GROUP BY state", (count,))
        counts.update(dict(rows))
        return counts

    def action_outcomes(self, since: float) -> dict[str, dict[str, int]]:
        rows = self._query(f"SELECT action, state, count(*) FROM tasks WHERE finished_at >= ?"
                           f" AND canary = 0 AND {JUDGED_IN} GROUP BY action, state", (since,))
        out: dict[str, dict[str, int]] = {}
        for action, state, n in rows:
            out.setdefault(action, dict.fromkeys(states.JUDGED, 0))[state] = n
        return out

    def error_classes(self, since: float) -> dict[str, dict[str, int]]:
        rows = self._query("SELECT action, error_class, count(*) FROM tasks WHERE finished_at >= ?"
                           " AND canary = 0 AND state IN ('failed', 'dead')"
                           " GROUP BY action, error_class", (since,))
        out: dict[str, dict[str, int]] = {}
        for action, error_class, n in rows:
            out.setdefault(action, {})[error_class or "unknown"] = n
        return out

    # -- samples -------------------------------------------------------
    def add_sample(self, kind: str, data: dict[str, Any], now: float) -> Sample:
        with self._tx() as cur:
            rows = self._all(cur, "INSERT INTO samples (at, kind, data) VALUES (?, ?, ?) RETURNING id",
                             (now, kind, json.dumps(data)))
        return Sample(id=rows[0][0], at=now, kind=kind, data=data)

    def samples(self, kind: str, since: float = 0.0, limit: int = 10_000) -> list[Sample]:
        rows = self._query("SELECT id, at, kind, data FROM samples WHERE kind = ? AND at >= ?"
                           " ORDER BY at DESC, id DESC LIMIT ?", (kind, since, limit))
        return [Sample(id=r[0], at=r[1], kind=r[2], data=json.loads(r[3])) for r in reversed(rows)]

    def latest_sample(self, kind: str) -> Sample | None:
        found = self.samples(kind, 0.0, 1)
        return found[0] if found else None

    def prune_samples(self, older_than: float) -> int:
        with self._tx() as cur:
            rows = self._all(cur, "DELETE FROM samples WHERE at < ? RETURNING id", (older_than,))
        return len(rows)

    # -- alerts --------------------------------------------------------
    def save_alert(self, alert: Alert) -> Alert:
        values = (alert.name, alert.severity, alert.state, alert.started_at, alert.fired_at,
                  alert.resolved_at, alert.value, alert.threshold, alert.summary,
                  json.dumps(alert.detail, default=str), json.dumps(alert.history, default=str))
        with self._tx() as cur:
            if alert.id is None:
                rows = self._all(
                    cur, "INSERT INTO alerts (name, severity, state, started_at, fired_at, resolved_at,"
                         " value, threshold, summary, detail, history)"
                         f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {ALERT_COLUMNS}", values)
            else:
                rows = self._all(
                    cur, "UPDATE alerts SET name = ?, severity = ?, state = ?, started_at = ?,"
                         " fired_at = ?, resolved_at = ?, value = ?, threshold = ?, summary = ?,"
                         f" detail = ?, history = ? WHERE id = ? RETURNING {ALERT_COLUMNS}",
                    (*values, alert.id))
        return alert_from_row(rows[0])

    def delete_alert(self, alert_id: int) -> None:
        with self._tx() as cur:
            self._all(cur, "DELETE FROM alerts WHERE id = ? RETURNING id", (alert_id,))

    def alerts(self, active: bool | None = None, since: float = 0.0, limit: int = 100) -> list[Alert]:
        clause = {None: "", True: "AND state IN ('pending', 'firing')",
                  False: "AND state = 'resolved'"}[active]
        rows = self._query(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE started_at >= ? {clause}"
                           " ORDER BY started_at DESC, id DESC LIMIT ?", (since, limit))
        return [alert_from_row(r) for r in rows]
