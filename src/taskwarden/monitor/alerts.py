"""Alert delivery: the store (with history), ``outputs/alerts/``, the log, events, webhooks.

Each alert the monitor raises is one file, ``outputs/alerts/alert_<name>.json``,
rewritten atomically when it fires and again when it resolves. The ``alert_``
prefix keeps these apart from the warden's ``<component>_alert.json`` restart
files, which the ``restart_limit`` rule reads and must never overwrite.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taskwarden.monitor.engine import Transition
from taskwarden.monitor.notifiers import Notifier
from taskwarden.store.base import Alert, Store
from taskwarden.supervision.alert_file import write_json

log = logging.getLogger("taskwarden.monitor.alerts")
RecordEvent = Callable[[str, str, dict[str, Any]], None]


def alert_path(alerts_dir: Path, name: str) -> Path:
    return alerts_dir / f"alert_{name}.json"


class AlertBook:
    """Turns the engine's transitions into stored alerts and tells everyone who should know."""

    def __init__(self, store: Store, alerts_dir: Path, notifier: Notifier,
                 record_event: RecordEvent) -> None:
        self.store, self.alerts_dir, self.notifier = store, alerts_dir, notifier
        self.record_event = record_event
        self.open: dict[str, Alert] = {}

    def load(self) -> list[Alert]:
        """The pending and firing alerts a previous monitor left, newest per name."""
        for alert in reversed(self.store.alerts(active=True, limit=1000)):
            self.open[alert.name] = alert
        return list(self.open.values())

    def apply(self, transitions: list[Transition]) -> None:
        for tr in transitions:
            handler = {"pending": self._pending, "fired": self._fired,
                       "canceled": self._canceled, "resolved": self._resolved}[tr.kind]
            handler(tr)

    # -- one per transition kind ------------------------------------------
    def _pending(self, tr: Transition) -> None:
        reading = tr.reading
        alert = Alert(None, tr.rule.name, tr.rule.severity, "pending", tr.at,
                      value=reading.value if reading else None,
                      threshold=reading.threshold if reading else None,
                      summary=reading.summary if reading else "",
                      detail=reading.detail if reading else {},
                      history=[_entry(tr, "pending")])
        self.open[tr.rule.name] = self.store.save_alert(alert)
        log.info("alert %s pending: %s", tr.rule.name, alert.summary)

    def _fired(self, tr: Transition) -> None:
        current = self.open.get(tr.rule.name)
        reading = tr.reading
        base = current or Alert(None, tr.rule.name, tr.rule.severity, "pending", tr.at)
        alert = self.store.save_alert(dataclasses.replace(
            base, state="firing", fired_at=tr.at, resolved_at=None,
            value=reading.value if reading else base.value,
            threshold=reading.threshold if reading else base.threshold,
            summary=reading.summary if reading else base.summary,
            detail=reading.detail if reading else base.detail,
            history=[*base.history, _entry(tr, "firing")]))
        self.open[tr.rule.name] = alert
        log.warning("ALERT %s [%s] firing: %s", alert.name, alert.severity, alert.summary)
        self._announce("alert_fired", alert)

    def _canceled(self, tr: Transition) -> None:
        alert = self.open.pop(tr.rule.name, None)
        if alert and alert.id is not None:
            self.store.delete_alert(alert.id)
        log.info("alert %s cleared while pending; never fired", tr.rule.name)

    def _resolved(self, tr: Transition) -> None:
        current = self.open.pop(tr.rule.name, None)
        if current is None:
            return
        reading = tr.reading
        alert = self.store.save_alert(dataclasses.replace(
            current, state="resolved", resolved_at=tr.at,
            value=reading.value if reading else current.value,
            history=[*current.history, _entry(tr, "resolved")]))
        log.warning("ALERT %s resolved after %.1fs: %s", alert.name,
                    tr.at - (alert.fired_at or alert.started_at),
                    reading.summary if reading else "no longer measurable")
        self._announce("alert_resolved", alert, now_summary=reading.summary if reading else None)

    # -- telling people ------------------------------------------------------
    def _announce(self, kind: str, alert: Alert, now_summary: str | None = None) -> None:
        doc = {**alert.to_dict(), "status": alert.state}
        if now_summary:
            doc["resolved_summary"] = now_summary
        try:
            write_json(alert_path(self.alerts_dir, alert.name), doc)
        except OSError as exc:
            log.error("could not write the alert file for %s: %s", alert.name, exc)
        detail = {"name": alert.name, "severity": alert.severity, "alert_id": alert.id,
                  "value": alert.value, "threshold": alert.threshold, "summary": alert.summary}
        if now_summary:
            detail["resolved_summary"] = now_summary
        self.record_event(kind, f"alert:{alert.name}", detail)
        self.notifier.send({"event": kind, **doc})


def _entry(tr: Transition, state: str) -> dict[str, Any]:
    return {"at": tr.at, "state": state, "value": tr.reading.value if tr.reading else None}
