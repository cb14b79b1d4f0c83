"""The warden: keeps exactly the right taskwarden processes alive on one data directory.

It holds the ``warden`` OS lock (a second warden exits 0 naming the holder),
spawns the server, N workers and the monitor (:mod:`supervision.roster`), and
once per tick: asks the server for ``/api/workers`` (the server's sign of
life, and each worker's heartbeat), moves every child one step through its
state machine (:mod:`supervision.child`), acts on what changed (events, alert
files, releasing a dead worker's leases at once), handles stray workers and
publishes ``run/warden.state.json`` for ``status``.

Signals: the handlers only count; the loop acts. The first TERM/INT stops
gracefully in order - workers (they finish or give back their tasks), then
the monitor, then the server; a second one KILLs every child.

Orphans (the warden itself SIGKILLed): two layers, so none runs forever.
1. Each child gets ``TASKWARDEN_WARDEN_PID`` and watches it
   (:mod:`supervision.parent`): when its parent is gone it stops itself
   gracefully, and forcibly 30 s later.
2. The next warden reads the previous ``warden.state.json`` and stops any
   recorded child still running (checked by pid *and* create time) before it
   starts its own, so a leftover server cannot hold the port.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from taskwarden.client import Client
from taskwarden.config import Config
from taskwarden.errors import TaskwardenError
from taskwarden.locks import ProcessLock
from taskwarden.supervision import process_states as ps
from taskwarden.supervision import roster, state_file
from taskwarden.supervision.alert_file import AlertFile
from taskwarden.supervision.child import Change, Child
from taskwarden.supervision.strays import Strays
from taskwarden.supervision.system import System
from taskwarden.worker import worker_id

log = logging.getLogger("taskwarden.warden")
MIN_TICK_S = 0.05  # under a large time scale, do not poll the server more than 20 times a second
EXIT_OK = 0


class Warden:
    def __init__(self, config: Config, workers: int | None = None, config_file: Path | None = None,
                 system: System | None = None, with_monitor: bool | None = None) -> None:
        self.config = config
        self.workers = config.warden.workers if workers is None else workers
        self.config_file, self.with_monitor = config_file, with_monitor
        self.system = system or System()
        self.lock = ProcessLock(config.data_dir / "run", "warden")
        self.host = socket.gethostname()
        self.id = f"{self.host}-warden-{os.getpid()}"
        self.client = Client(config.server_url, config.server.token, timeout=1.0)
        self.children: list[Child] = []
        self.strays = Strays(self.system, config.liveness_seconds(config.warden.stop_grace_s))
        self.signals = 0
        self.stopping = False
        self.server_up = False
        self.started_at = time.time()
        self._wake = threading.Event()
        self._unsent: deque[tuple[str, str, dict[str, Any]]] = deque(maxlen=500)
        self._unreleased: list[str] = []
        self._next_beat = 0.0
        self._created: dict[int, float | None] = {}

    # -- signals: record only, the loop acts -----------------------------
    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signals += 1
        self._wake.set()

    def _on_child_exit(self, signum: int, frame: Any) -> None:
        self._wake.set()  # a child died: tick now rather than at the end of the interval

    # -- life ------------------------------------------------------------
    def run(self) -> int:
        if not self.lock.acquire():
            log.info("a warden already runs for %s: %s; not starting another",
                     self.config.data_dir, self.lock.describe_holder())
            return EXIT_OK
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        if hasattr(signal, "SIGCHLD"):
            signal.signal(signal.SIGCHLD, self._on_child_exit)
        try:
            self.children = roster.build(self.config, self.workers, self.system, self.config_file,
                                         self.with_monitor)
            self._stop_leftovers()
            self._emit("warden_started", self.id, {"pid": os.getpid(), "workers": self.workers,
                                                   "children": [c.name for c in self.children]})
            for child in self.children:
                child.start()
            self._loop()
        finally:
            for child in self.children:
                child.force()
            self._publish()
            self.client.close()
            self.lock.release()
            log.info("warden %s stopped", self.id)
        return EXIT_OK

    def _loop(self) -> None:
        tick = max(MIN_TICK_S, self.config.seconds(self.config.warden.tick_s))
        forced = False
        while True:
            if self.signals and not self.stopping:
                self.stopping = True
                log.info("stopping: workers first, then the monitor, then the server")
            if self.signals >= 2 and not forced:
                forced = True
                log.warning("second signal: killing every child now")
                for child in self.children:
                    child.force()
            try:
                moved = self._tick()
            except Exception:  # an unattended warden logs a bad tick and keeps supervising
                log.exception("warden tick failed; continuing")
                moved = False
            if self.stopping and all(c.state == ps.STOPPED for c in self.children):
                if self._server_child() is None:  # a worker host: say so to the remote server
                    self._beat("stopped", force=True)
                return
            if moved:
                continue  # one step per tick, but the next step need not wait (e.g. restart at once)
            self._wake.wait(tick)
            self._wake.clear()

    def _tick(self) -> bool:
        """Observe, step every child once, act, publish; True when some child moved."""
        self._observe()
        if self.stopping:
            self._stop_in_order()
        moved = False
        for child in self.children:
            changes = child.tick()
            moved = moved or bool(changes)
            self._handle(child, changes)
        self._publish()
        return moved

    def _stop_in_order(self) -> None:
        groups = [[c for c in self.children if c.spec.slot is not None],
                  [c for c in self.children if c.name == "monitor"],
                  [c for c in self.children if c.name == "server"]]
        for group in groups:
            for child in group:
                if child.wanted:
                    if child.name == "server":
                        self._beat("stopped", force=True)
                    child.stop("down")
            if any(c.state != ps.STOPPED for c in group):
                return

    # -- what the server tells us ----------------------------------------
    def _observe(self) -> None:
        now = self.system.now()
        workers = [c for c in self.children if c.spec.slot is not None]
        for child in self.children:
            if child.name == "monitor" and child.pid is not None:
                child.saw_life(now)  # the monitor has no probe of its own: running is alive
        try:
            rows = self.client.workers()
        except TaskwardenError:
            self.server_up = False
            for child in workers:
                child.excuse(now)  # no heartbeat can arrive while the server is down
            return
        server = self._server_child()  # None on a worker host: the server is remote
        if server is not None:
            server.saw_life(now)
        self.server_up = True
        self._flush()
        self._beat("stopping" if self.stopping else "idle")
        by_id = {r["id"]: r for r in rows}
        for child in workers:
            if server is not None and server.state != ps.RUNNING:
                child.excuse(now)
            row = by_id.get(worker_id(self.host, child.spec.slot, child.pid or -1))
            if row and row["status"] != "stopped":
                child.saw_life(now - row["heartbeat_age_s"])
        mine = {c.pid for c in self.children if c.pid is not None}
        wanted = sum(1 for c in workers if c.wanted)
        for kind, pid, detail in self.strays.review(rows, self.host, mine, wanted, self.workers):
            self._emit(kind, f"worker:{pid}", detail)

    def _server_child(self) -> Child | None:
        return next((c for c in self.children if c.name == "server"), None)

    def _beat(self, status: str, force: bool = False) -> None:
        now = self.system.now()
        if not force and now < self._next_beat:
            return
        self._next_beat = now + self.config.heartbeat_seconds()
        try:
            self.client.heartbeat({"id": self.id, "host": self.host, "pid": os.getpid(), "slot": 0,
                                   "role": "warden", "status": status, "started_at": self.started_at})
        except TaskwardenError as exc:
            log.debug("warden heartbeat failed: %s", exc)

    # -- acting on changes -----------------------------------------------
    def _handle(self, child: Child, changes: list[Change]) -> None:
        for change in changes:
            self._emit(change.kind, change.child, change.detail)
            if change.kind == "alert_fired":
                self._alert(child).fire(self._alert_reason(child, change.detail), change.detail,
                                        self.system.wall())
            elif change.kind == "alert_resolved" and not any(
                    c.alert_firing for c in self.children if c.spec.component == child.spec.component):
                self._alert(child).resolve(change.detail, self.system.wall())
            died = change.kind == "process_state" and change.detail["to"] in (ps.BACKOFF, ps.STOPPED)
            if died and child.spec.slot is not None and change.detail.get("pid"):
                self._release(worker_id(self.host, child.spec.slot, change.detail["pid"]))

    def _alert(self, child: Child) -> AlertFile:
        return AlertFile(self.config.data_dir / "outputs" / "alerts", child.spec.component)

    @staticmethod
    def _alert_reason(child: Child, facts: dict[str, Any]) -> str:
        return (f"{child.name} restarted {facts['restarts_in_window']} times within "
                f"{facts['window_s']:g}s (limit {facts['limit']}); retrying at the backoff cap")

    def _release(self, wid: str) -> None:
        """Give a dead worker's tasks back now; the lease deadline is only the backstop."""
        try:
            released = self.client.release(wid, None, count_attempt=True)["released"]
            if released:
                log.info("released %s of dead worker %s", released, wid)
        except TaskwardenError:
            self._unreleased.append(wid)

    def _emit(self, kind: str, subject: str, detail: dict[str, Any]) -> None:
        """Log it, and record it as an event (later, if the server is down right now)."""
        log.info("%s %s %s", kind, subject, detail)
        self._unsent.append((kind, subject, {**detail, "warden": self.id, "at": time.time()}))
        if self.server_up:
            self._flush()

    def _flush(self) -> None:
        try:
            while self._unreleased:
                self.client.release(self._unreleased[0], None, count_attempt=True)
                self._unreleased.pop(0)
            while self._unsent:
                self.client.record_event(*self._unsent[0])
                self._unsent.popleft()
        except TaskwardenError as exc:
            log.debug("server not taking events yet: %s", exc)

    # -- state for status, down and the next warden --------------------------
    def _publish(self) -> None:
        now = self.system.now()
        children = []
        for c in self.children:
            if c.pid is not None and c.pid not in self._created:
                self._created[c.pid] = state_file.create_time(c.pid)
            children.append({
                "name": c.name, "component": c.spec.component, "slot": c.spec.slot, "pid": c.pid,
                "create_time": self._created.get(c.pid) if c.pid else None, "state": c.state,
                "restarts": c.restarts, "last_exit": c.last_exit, "alert_firing": c.alert_firing,
                "uptime_s": round(now - c.ready_at, 3) if c.state == ps.RUNNING else None})
        state_file.write(self.config.data_dir, {
            "pid": os.getpid(), "host": self.host, "id": self.id, "started_at": self.started_at,
            "updated_at": time.time(), "stopping": self.stopping, "server_url": self.config.server_url,
            "desired": {"server": int(self._server_child() is not None), "worker": self.workers,
                        "monitor": int(any(c.name == "monitor" for c in self.children))},
            "children": children, "strays": sorted(self.strays.seen)})

    def _stop_leftovers(self) -> None:
        """Stop children a SIGKILLed warden left behind, so ours can take the port and slots."""
        previous = state_file.read(self.config.data_dir) or {}
        if previous.get("pid") == os.getpid():
            return
        leftovers = [c["pid"] for c in previous.get("children", [])
                     if state_file.same_process(c.get("pid"), c.get("create_time"))]
        for pid in leftovers:
            self._emit("orphan_stopped", f"pid:{pid}", {"previous_warden": previous.get("pid")})
        self.strays.stop_now(leftovers)
