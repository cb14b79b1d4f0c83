"""One supervised child and its state machine (see :mod:`process_states`).

The warden calls :meth:`Child.tick` once per loop; each call makes at most one
state change and returns what happened as :class:`Change` records, which the
warden logs and posts as events. The child never sleeps and reads time and
processes only through the :class:`System` it was given.

"Alive" needs proof: the warden reports signs of life (the server's health
answered, a worker's heartbeat arrived) with :meth:`Child.saw_life`. A child
that shows none for ``stale_s`` (SIGSTOP, a deadlock, a hung start-up) is
stopped, TERM then KILL after ``grace_s``, and started again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskwarden.supervision import process_states as ps
from taskwarden.supervision.backoff import Backoff, RestartWindow
from taskwarden.supervision.system import Proc, System


@dataclass(frozen=True)
class Change:
    """Something that happened to a child: a state change, an alert, a KILL."""

    kind: str  # "process_state", "alert_fired", "alert_resolved", "backoff_reset", "process_killed"
    child: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Spec:
    """What to run and how to judge it; durations already in real seconds."""

    name: str          # "server", "worker-0", "monitor"
    component: str     # the alert file's stem: "server", "rpa_worker", "monitor"
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    stale_s: float
    grace_s: float
    slot: int | None = None


@dataclass
class Child:
    spec: Spec
    system: System
    backoff: Backoff
    window: RestartWindow
    state: str = ps.STOPPED
    wanted: bool = False
    proc: Proc | None = None
    restarts: int = 0
    last_exit: int | None = None
    alert_firing: bool = False
    spawned_at: float = 0.0
    ready_at: float = 0.0
    last_life: float = 0.0
    stop_at: float = 0.0
    retry_at: float = 0.0
    proven: bool = False  # a sign of life arrived since the last spawn
    reason: str = ""
    _changes: list[Change] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.state in ps.HAS_PROCESS else None

    # -- what the warden tells the child ------------------------------
    def start(self) -> None:
        """Want it running; the next tick spawns it."""
        self.wanted = True

    def saw_life(self, at: float) -> None:
        """Evidence that the process works, observed at ``at`` (monotonic seconds)."""
        self.last_life = max(self.last_life, at)
        self.proven = True

    def excuse(self, now: float) -> None:
        """No evidence can arrive right now (e.g. the server is down): do not judge."""
        self.last_life = max(self.last_life, now)

    def stop(self, reason: str = "down") -> None:
        """Stop for good (``down``); the ticks carry it out."""
        self.wanted = False
        self.reason = reason

    def force(self) -> None:
        """The second signal: KILL at once, no grace."""
        if self.proc is not None and self.state in ps.HAS_PROCESS:
            self.proc.kill()

    # -- the state machine -------------------------------------------
    def tick(self) -> list[Change]:
        now = self.system.now()
        step = {ps.STOPPED: self._stopped, ps.STARTING: self._starting, ps.RUNNING: self._running,
                ps.BACKOFF: self._backoff, ps.STOPPING: self._stopping}[self.state]
        step(now)
        changes, self._changes = self._changes, []
        return changes

    def _stopped(self, now: float) -> None:
        if self.wanted:
            self._spawn(now, "start")

    def _starting(self, now: float) -> None:
        if self._exited(now):
            return
        if not self.wanted:
            self._terminate(now, self.reason)
        elif self.proven:
            self.ready_at = now
            self._move(ps.RUNNING, "alive", startup_s=round(now - self.spawned_at, 3))
        elif now - max(self.spawned_at, self.last_life) > self.spec.stale_s:
            self._terminate(now, "no sign of life after start")

    def _running(self, now: float) -> None:
        if self._exited(now):
            return
        if not self.wanted:
            self._terminate(now, self.reason)
        elif now - self.last_life > self.spec.stale_s:
            self._terminate(now, f"hung: no sign of life for {now - self.last_life:.1f}s")
        else:
            self._check_stable(now)

    def _backoff(self, now: float) -> None:
        if not self.wanted:
            self._move(ps.STOPPED, self.reason)
        elif now >= self.retry_at:
            self._spawn(now, "restart")

    def _stopping(self, now: float) -> None:
        code = self.proc.poll() if self.proc is not None else 0
        if code is not None:
            self.last_exit = code
            if self.wanted:
                self._schedule_restart(now, code)
            else:
                self._move(ps.STOPPED, self.reason, exit_code=code)
        elif now - self.stop_at >= self.spec.grace_s and self.proc is not None:
            self.proc.kill()
            self.stop_at = now  # KILL again after another grace if the OS has not reaped it yet
            self._note("process_killed", pid=self.proc.pid, after_s=self.spec.grace_s)

    # -- steps ---------------------------------------------------------
    def _spawn(self, now: float, reason: str) -> None:
        self.proc = self.system.spawn(self.spec.argv, self.spec.env, self.spec.log_path)
        self.spawned_at = self.last_life = now
        self.proven = False
        if reason == "restart":
            self.restarts += 1
        self._move(ps.STARTING, reason, pid=self.proc.pid, restarts=self.restarts)

    def _exited(self, now: float) -> bool:
        """When the process is gone unasked: note it and schedule the restart."""
        code = self.proc.poll() if self.proc is not None else 0
        if code is None:
            return False
        self.last_exit = code
        if self.wanted:
            self._schedule_restart(now, code)
        else:
            self._move(ps.STOPPED, self.reason, exit_code=code)
        return True

    def _schedule_restart(self, now: float, code: int | None) -> None:
        delay = self.backoff.next_delay()
        self.retry_at = now + delay
        self.window.record(now, code)
        pid = self.proc.pid if self.proc is not None else None
        self._move(ps.BACKOFF, "exited", pid=pid, exit_code=code, delay_s=round(delay, 3),
                   streak=self.backoff.streak)
        if self.window.exceeded(now) and not self.alert_firing:
            self.alert_firing = True
            self._note("alert_fired", **self.alert_facts(now))

    def _terminate(self, now: float, reason: str) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.stop_at = now
        self._move(ps.STOPPING, reason, pid=self.proc.pid)

    def _check_stable(self, now: float) -> None:
        running_for = now - self.ready_at
        if self.backoff.ran_stably(running_for):
            self._note("backoff_reset", running_s=round(running_for, 3))
        if self.alert_firing and running_for >= self.backoff.stable_s:
            self.alert_firing = False
            self._note("alert_resolved", **self.alert_facts(now))

    def alert_facts(self, now: float) -> dict[str, Any]:
        return {"restarts_in_window": self.window.count(now), "limit": self.window.limit,
                "window_s": self.window.window_s, "restarts_total": self.restarts,
                "last_exit_codes": list(self.window.exit_codes)}

    def _move(self, to: str, reason: str, **detail: Any) -> None:
        was, self.state = self.state, to
        self._note("process_state", **{"from": was, "to": to, "reason": reason, **detail})

    def _note(self, kind: str, **detail: Any) -> None:
        self._changes.append(Change(kind, self.name, detail))
