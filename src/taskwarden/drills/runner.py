"""Runs drills against the stack the configuration names, and judges the alerts they cause.

A drill gets a :class:`Drill` context: the client, the store (read directly,
so alerts and events are seen while the server is down), the warden's
published state, the rules' timing under the time scale, and :meth:`Drill.wait`,
which polls a condition until a deadline while keeping the progress line live.

Around each drill the runner:
1. checks the stack answers and notes which alerts are already active (those
   are not the drill's doing and are left out of its observations);
2. records ``drill_started``, runs the drill (its ``finally`` undoes the fault);
3. waits for every alert the drill raised to resolve, so the stack is left as
   it was found (a check of its own), and for the desired workers to run;
4. collects the alerts fired meanwhile, records ``drill_finished``, writes
   ``outputs/reports/drill-<name>-<stamp>.{md,json}``.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil

from taskwarden import stats
from taskwarden.client import Client
from taskwarden.config import Config
from taskwarden.drills.verdict import Check, Verdict
from taskwarden.errors import TaskwardenError
from taskwarden.monitor.baseline import BaselineKeeper
from taskwarden.monitor.rules import Thresholds
from taskwarden.store.base import Store
from taskwarden.supervision import state_file

POLL_S = 0.05
#: Real seconds allowed on top of the configured (scaled) timings for processes to start
#: and answer: interpreter start-up does not shrink with the time scale.
STARTUP_S = 10.0

Progress = Callable[[str], None]


class DrillAborted(Exception):
    """A step did not happen in time; the drill stops there (its check says what)."""


@dataclass
class Drill:
    config: Config
    client: Client
    store: Store
    progress: Progress
    verdict: Verdict
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    # -- timing, in real seconds ------------------------------------------
    @property
    def interval(self) -> float:
        return self.config.seconds(self.config.monitor.sample_s)

    @property
    def pending(self) -> float:
        return self.config.monitor.pending_samples * self.interval

    @property
    def hold(self) -> float:
        return self.config.seconds(self.config.monitor.hold_s)

    @property
    def stale(self) -> float:
        return self.config.liveness_seconds(self.config.warden.stale_heartbeat_s)

    def s(self, configured: float) -> float:
        return self.config.seconds(configured)

    def thresholds(self) -> Thresholds:
        return BaselineKeeper(self.config, self.store, lambda *a: None).thresholds()

    # -- checks and waiting -----------------------------------------------
    def check(self, name: str, ok: bool, measured_s: float | None = None, limit_s: float | None = None,
              detail: str = "") -> Check:
        c = Check(name, ok, None if measured_s is None else round(measured_s, 3),
                  None if limit_s is None else round(limit_s, 3), detail)
        self.verdict.checks.append(c)
        return c

    def wait(self, what: str, condition: Callable[[], Any], timeout: float) -> tuple[Any, float]:
        """Poll until ``condition`` is truthy: (its value, seconds taken), or (None, timeout).

        A condition that raises :class:`TaskwardenError` (server down) counts as not yet."""
        began = time.monotonic()
        while True:
            elapsed = time.monotonic() - began
            self.progress(f"{self.verdict.drill}: {what} ({elapsed:.1f}s / {timeout:.0f}s)")
            try:
                value = condition()
            except TaskwardenError:
                value = None
            if value:
                return value, time.monotonic() - began
            if elapsed >= timeout:
                return None, timeout
            time.sleep(POLL_S)

    def require(self, name: str, what: str, condition: Callable[[], Any], timeout: float,
                failure: str) -> tuple[Any, float]:
        """:meth:`wait`, recorded as a check; a miss aborts the drill with ``failure`` as the verdict."""
        value, took = self.wait(what, condition, timeout)
        self.check(name, bool(value), took, timeout, "" if value else failure)
        if not value:
            raise DrillAborted(failure)
        return value, took

    # -- the stack --------------------------------------------------------
    def warden_state(self) -> dict[str, Any] | None:
        state = state_file.read(self.config.data_dir)
        if state and psutil.pid_exists(state.get("pid", -1)):
            return state
        return None

    def workers(self) -> dict[int, int]:
        """slot -> pid of each running worker: the warden's view, or the server's without one."""
        state = self.warden_state()
        if state:
            return {c["slot"]: c["pid"] for c in state["children"]
                    if c["slot"] is not None and c["state"] == "running" and c["pid"]}
        host = socket.gethostname()
        rows = [w for w in self.client.workers() if w.get("alive") and w.get("host") == host]
        return {w["slot"]: w["pid"] for w in reversed(rows)}

    def desired_workers(self) -> int:
        state = self.warden_state()
        return int(state["desired"]["worker"]) if state else self.config.warden.workers

    def replacement(self, slot: int, old_pid: int) -> int | None:
        """The pid of a new worker in ``slot`` that is running and sending heartbeats."""
        pid = self.workers().get(slot)
        if not pid or pid == old_pid:
            return None
        return pid if any(w["pid"] == pid and w.get("alive") for w in self.client.workers()) else None

    def server_pid(self) -> int | None:
        state = self.warden_state()
        if state:
            return next((c["pid"] for c in state["children"] if c["name"] == "server" and c["pid"]), None)
        port = self.config.server.port
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                cmd = proc.info["cmdline"] or []
                listening = "taskwarden" in cmd and "server" in cmd and any(
                    c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in proc.net_connections())
                if listening:
                    return proc.pid
        return None

    def healthy(self) -> bool:
        try:
            return bool(self.client.health())
        except TaskwardenError:
            return False

    def monitor_alive(self) -> bool:
        return bool(stats.live(self.store, "monitor", self.config, time.time()))

    def event(self, kind: str, detail: dict[str, Any]) -> None:
        with contextlib.suppress(TaskwardenError):
            self.store.record_event(kind, f"drill:{self.verdict.drill}", detail, time.time())

    # -- alert expectations from what was measured ---------------------------
    def expect_for_outage(self, alert: str, outage_s: float, why: str) -> None:
        """A condition held ``outage_s``: an alert with a pending time must fire when it held
        clearly longer than pending plus two samples, may fire when near it, must not when shorter."""
        if outage_s >= self.pending + 2 * self.interval:
            self.verdict.expected[alert] = f"{why} for {outage_s:.1f}s"
        elif outage_s > self.pending - self.interval:
            self.verdict.tolerated[alert] = f"{why} for {outage_s:.1f}s, near the pending time"

    def tolerate_dead_twin(self) -> None:
        """A SIGKILLed worker's last heartbeat counts as alive until stale, beside its replacement."""
        self.verdict.tolerated.setdefault(
            "worker_count_high", f"a killed worker's last heartbeat counts as alive until it is stale"
                                 f" ({self.stale:.1f}s), beside its replacement")

    def active_alerts(self) -> set[str]:
        return {a.name for a in self.store.alerts(active=True, limit=1000) if a.state == "firing"}

    def fired_since(self, since: float) -> list[str]:
        return sorted({a.name for a in self.store.alerts(since=since - 86400.0 * 30, limit=100_000)
                       if a.fired_at is not None and a.fired_at >= since})


DrillFunc = Callable[[Drill], None]


def run(name: str, func: DrillFunc, config: Config, store: Store, progress: Progress,
        settle_timeout: float | None = None) -> Verdict:
    """Run one drill with everything around it (see the module docstring)."""
    verdict = Verdict(drill=name, started_at=time.time())
    with Client(config.server_url, config.server.token, timeout=10.0) as client:
        d = Drill(config, client, store, progress, verdict)
        if not d.healthy():
            d.check("stack reachable", False, detail=f"no queue server answers at {config.server_url}")
            verdict.finished_at = time.time()
            return verdict
        verdict.monitored = d.monitor_alive()
        before = d.active_alerts()
        d.event("drill_started", {"drill": name})
        t0 = time.time()
        try:
            func(d)
        except DrillAborted as exc:
            verdict.notes.append(f"stopped early: {exc}")
        finally:
            for undo in reversed(d.cleanups):
                with contextlib.suppress(Exception):
                    undo()
        _settle(d, before, settle_timeout)
        verdict.observed = [n for n in d.fired_since(t0) if n not in before]
        if not verdict.monitored:
            verdict.notes.append("no monitor was alive: alerts were not judged")
            verdict.expected, verdict.observed = {}, []
        verdict.finished_at = time.time()
        d.event("drill_finished", {"drill": name, "passed": verdict.passed,
                                   **{k: v for k, v in verdict.to_dict().items()
                                      if k in ("alert_precision", "alert_recall", "duration_s")}})
    return verdict


def _settle(d: Drill, before: set[str], timeout: float | None) -> None:
    """Leave the stack as found: the workers back and every alert the drill raised resolved."""
    limit = timeout or (d.hold + 6 * d.interval + d.s(d.config.monitor.success_short_s) + STARTUP_S)
    desired = d.desired_workers()
    d.wait("waiting for the workers", lambda: d.healthy() and len(d.workers()) >= desired, STARTUP_S)
    if not d.verdict.monitored:
        return
    _, took = d.wait("waiting for its alerts to resolve",
                        lambda: not (d.active_alerts() - before), limit)
    still = sorted(d.active_alerts() - before)
    d.check("alerts resolved (stack left as found)", not still, took, limit,
            f"still firing: {', '.join(still)}" if still else "")


def quiet(config: Config, store: Store, progress: Progress, timeout: float) -> bool:
    """Before a drill (and between the drills of ``all``): wait for no firing alert and an empty queue."""
    with Client(config.server_url, config.server.token, timeout=10.0) as client:
        d = Drill(config, client, store, progress, Verdict("all", time.time()))
        value, _ = d.wait("waiting for a quiet stack", lambda: not d.active_alerts()
                          and client.stats()["queue"]["ready"] == 0, timeout)
        return bool(value)


@contextlib.contextmanager
def opened(config: Config) -> Iterator[Store]:
    from taskwarden.store import open_store

    store = open_store(config)
    try:
        yield store
    finally:
        store.close()
