"""The child state machine under a fake clock and fake processes (supervisor's DummyOptions idea).

Real processes are tested in ``test_warden_stack.py``; here every transition,
delay and alert is checked without sleeping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taskwarden.supervision import process_states as ps
from taskwarden.supervision.backoff import Backoff, RestartWindow
from taskwarden.supervision.child import Change, Child, Spec


class FakeProc:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.code: int | None = None
        self.signals: list[str] = []

    def poll(self) -> int | None:
        return self.code

    def terminate(self) -> None:
        self.signals.append("TERM")

    def kill(self) -> None:
        self.signals.append("KILL")
        self.code = -9


class FakeSystem:
    def __init__(self) -> None:
        self.clock = 1000.0
        self.procs: list[FakeProc] = []

    def now(self) -> float:
        return self.clock

    def wall(self) -> float:
        return self.clock

    def spawn(self, argv: list[str], env: dict[str, str], log_path: Path) -> FakeProc:
        self.procs.append(FakeProc(100 + len(self.procs)))
        return self.procs[-1]


def make_child(system: FakeSystem, stale_s: float = 15, grace_s: float = 10) -> Child:
    spec = Spec(name="worker-0", component="rpa_worker", argv=["x"], env={}, log_path=Path("x.out"),
                stale_s=stale_s, grace_s=grace_s, slot=0)
    return Child(spec=spec, system=system,  # type: ignore[arg-type]
                 backoff=Backoff(5, 60, 60), window=RestartWindow(5, 600))


@pytest.fixture
def sys_() -> FakeSystem:
    return FakeSystem()


def states(changes: list[Change]) -> list[str]:
    return [c.detail["to"] for c in changes if c.kind == "process_state"]


def run_up(child: Child, system: FakeSystem) -> None:
    """From wherever it is to running: spawn, then a sign of life."""
    while child.state != ps.RUNNING:
        child.tick()
        if child.state == ps.STARTING:
            child.saw_life(system.now())


def test_one_transition_per_tick_and_an_event_for_each(sys_: FakeSystem) -> None:
    child = make_child(sys_)
    child.start()
    assert states(child.tick()) == [ps.STARTING]
    assert states(child.tick()) == []  # no sign of life yet: still starting
    child.saw_life(sys_.now())
    assert states(child.tick()) == [ps.RUNNING]
    sys_.procs[-1].code = 1
    changes = child.tick()
    assert states(changes) == [ps.BACKOFF] and changes[0].detail["exit_code"] == 1
    assert states(child.tick()) == [ps.STARTING]  # first death: at once


def test_backoff_delays_follow_the_policy(sys_: FakeSystem) -> None:
    child = make_child(sys_)
    child.start()
    delays = []
    for _ in range(7):
        run_up(child, sys_)
        sys_.procs[-1].code = 3
        delays.append(child.tick()[0].detail["delay_s"])
        spawned = len(sys_.procs)
        sys_.clock += delays[-1] - 0.01
        child.tick()
        assert len(sys_.procs) == spawned or delays[-1] == 0  # not a moment early
        sys_.clock += 0.01
    assert delays == [0, 5, 10, 20, 40, 60, 60]


def test_alert_fires_past_the_limit_keeps_retrying_and_resolves_when_stable(sys_: FakeSystem) -> None:
    child = make_child(sys_)
    child.start()
    kinds: list[str] = []
    for _ in range(8):
        run_up(child, sys_)
        sys_.procs[-1].code = 70
        kinds += [c.kind for c in child.tick()]
        sys_.clock += 60
    assert kinds.count("alert_fired") == 1
    assert child.alert_firing
    assert child.state == ps.BACKOFF  # never gives up
    run_up(child, sys_)
    for _ in range(59):
        sys_.clock += 1
        child.saw_life(sys_.now())
        assert [c.kind for c in child.tick()] == []
    sys_.clock += 1
    child.saw_life(sys_.now())
    resolved = child.tick()
    assert {c.kind for c in resolved} == {"alert_resolved", "backoff_reset"}
    facts = next(c.detail for c in resolved if c.kind == "alert_resolved")
    assert facts["last_exit_codes"][-1] == 70 and facts["limit"] == 5


def test_alert_facts_name_counts_and_exit_codes(sys_: FakeSystem) -> None:
    child = make_child(sys_)
    child.start()
    fired = []
    for code in (1, 2, 3, 4, 5, 6):
        run_up(child, sys_)
        sys_.procs[-1].code = code
        fired += [c for c in child.tick() if c.kind == "alert_fired"]
        sys_.clock += 61
    assert len(fired) == 1
    assert fired[0].detail["restarts_in_window"] == 6
    assert fired[0].detail["last_exit_codes"] == [1, 2, 3, 4, 5, 6]


def test_hung_child_gets_term_then_kill_then_a_replacement(sys_: FakeSystem) -> None:
    child = make_child(sys_, stale_s=15, grace_s=10)
    child.start()
    run_up(child, sys_)
    hung = sys_.procs[-1]
    sys_.clock += 15.5
    changes = child.tick()
    assert states(changes) == [ps.STOPPING] and "hung" in changes[0].detail["reason"]
    assert hung.signals == ["TERM"]
    sys_.clock += 10
    assert [c.kind for c in child.tick()] == ["process_killed"] and hung.signals[-1] == "KILL"
    assert states(child.tick()) == [ps.BACKOFF]
    assert states(child.tick()) == [ps.STARTING] and sys_.procs[-1] is not hung


def test_excused_child_is_not_judged_hung(sys_: FakeSystem) -> None:
    child = make_child(sys_, stale_s=15)
    child.start()
    run_up(child, sys_)
    for _ in range(10):
        sys_.clock += 5
        child.excuse(sys_.now())  # the server is down: no heartbeat can arrive
        assert child.tick() == []


def test_start_up_without_a_sign_of_life_counts_as_hung(sys_: FakeSystem) -> None:
    child = make_child(sys_, stale_s=15)
    child.start()
    child.tick()
    sys_.clock += 16
    assert states(child.tick()) == [ps.STOPPING]


def test_stop_is_graceful_then_final(sys_: FakeSystem) -> None:
    child = make_child(sys_)
    child.start()
    run_up(child, sys_)
    child.stop("down")
    assert states(child.tick()) == [ps.STOPPING] and sys_.procs[-1].signals == ["TERM"]
    sys_.procs[-1].code = 0
    assert states(child.tick()) == [ps.STOPPED]
    assert child.tick() == [] and child.pid is None


def test_stop_during_backoff_cancels_the_restart(sys_: FakeSystem) -> None:
    child = make_child(sys_)
    child.start()
    run_up(child, sys_)
    sys_.procs[-1].code = 1
    child.tick()
    child.stop("down")
    assert states(child.tick()) == [ps.STOPPED]
    assert len(sys_.procs) == 1
