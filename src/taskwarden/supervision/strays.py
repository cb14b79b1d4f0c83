"""Stray workers: alive on this host by their heartbeats, but not started by this warden.

They are how "two or three workers at once" happened. Each is reported once
(``stray_worker``); when they and the warden's own wanted workers together
exceed the desired count, they are stopped: TERM (graceful, the stray gives
its task back), then KILL after the grace period (``stray_stopped``,
``stray_killed``). A stray on another host is reported but cannot be signalled.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from taskwarden.supervision.system import System

Note = tuple[str, int, dict[str, Any]]


class Strays:
    def __init__(self, system: System, grace_s: float) -> None:
        self.system, self.grace_s = system, grace_s
        self.seen: set[int] = set()
        self._termed: dict[int, float] = {}
        self._reported: set[str] = set()

    def review(self, rows: list[dict[str, Any]], host: str, mine: set[int], wanted: int,
               desired: int) -> Iterator[Note]:
        """One look at ``/api/workers``; yields the events to record."""
        now = self.system.now()
        strays = [r for r in rows if r["alive"] and r["pid"] not in mine
                  and (r["host"] != host or self.system.runs_taskwarden(r["pid"]))]
        self.seen = {r["pid"] for r in strays if r["host"] == host}
        for pid in list(self._termed):
            if pid not in self.seen and not self.system.runs_taskwarden(pid):
                del self._termed[pid]
        excess = len(strays) + wanted - desired
        for row in strays:
            pid, local = row["pid"], row["host"] == host
            facts = {"worker_id": row["id"], "host": row["host"], "slot": row["slot"]}
            if row["id"] not in self._reported:
                self._reported.add(row["id"])
                yield "stray_worker", pid, {**facts, "alive": len(strays) + wanted, "desired": desired}
            if not local or excess <= 0:
                continue
            if pid not in self._termed:
                self.system.signal_pid(pid)
                self._termed[pid] = now
                yield "stray_stopped", pid, facts
            elif now - self._termed[pid] >= self.grace_s and self.system.runs_taskwarden(pid):
                self.system.signal_pid(pid, force=True)
                self._termed[pid] = now
                yield "stray_killed", pid, facts

    def stop_now(self, pids: list[int]) -> None:
        """TERM, wait up to the grace period, KILL: used once, before the warden starts its own."""
        for pid in pids:
            self.system.signal_pid(pid)
        deadline = time.monotonic() + self.grace_s
        while time.monotonic() < deadline and any(self.system.runs_taskwarden(p) for p in pids):
            time.sleep(0.05)
        for pid in pids:
            if self.system.runs_taskwarden(pid):
                self.system.signal_pid(pid, force=True)
