"""The alert state machine, one per rule, driven by readings and an injected ``now``.

    inactive ──breach──▶ pending ──still breached after `for`──▶ firing
       ▲                    │                                      │
       └──── clear ─────────┘        clear for `hold` ─▶ resolved ─┘ (back to inactive)

Like Prometheus' ``for`` and ``keep_firing_for``: a single bad sample does
not page (pending), and a firing alert resolves only after its condition has
stayed clear for the whole hold, so flapping input fires at most once per
hold period and a recovery is announced once. Time is a parameter, never a
clock read, so tests step through hours of samples without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from taskwarden.monitor.rules import Reading, Rule

INACTIVE, PENDING, FIRING = "inactive", "pending", "firing"


@dataclass(frozen=True)
class Transition:
    """What changed for one rule at one evaluation.

    ``kind`` is ``pending``, ``fired``, ``canceled`` (pending that cleared
    before firing) or ``resolved``.
    """

    rule: Rule
    kind: str
    at: float
    reading: Reading | None


@dataclass
class RuleState:
    state: str = INACTIVE
    since: float = 0.0  # when the current breach was first seen
    clear_since: float | None = None  # firing, but clear since then


class Engine:
    """Evaluates every rule against readings; returns the transitions.

    ``slack_s`` absorbs scheduling jitter: evaluations arrive about every
    sample interval, never exactly, and an evaluation 1 ms early must not
    make an alert wait a whole extra interval.
    """

    def __init__(self, rules: tuple[Rule, ...], pending_s: float, hold_s: float,
                 slack_s: float = 0.0) -> None:
        self.rules = rules
        self.pending_s, self.hold_s, self.slack_s = pending_s, hold_s, slack_s
        self.states = {rule.name: RuleState() for rule in rules}

    def restore(self, name: str, state: str, since: float) -> None:
        """Carry an alert over from a previous monitor process, so a restart never re-fires it."""
        if name in self.states and state in (PENDING, FIRING):
            self.states[name] = RuleState(state=state, since=since)

    def evaluate(self, now: float, readings: dict[str, Reading | None]) -> list[Transition]:
        changes = []
        for rule in self.rules:
            reading = readings.get(rule.name)
            kind = self._step(rule, self.states[rule.name], now, bool(reading and reading.breached))
            if kind:
                changes.append(Transition(rule, kind, now, reading))
        return changes

    def _step(self, rule: Rule, st: RuleState, now: float, breached: bool) -> str | None:
        pending_s = self.pending_s if rule.pending else 0.0
        if st.state == INACTIVE:
            if not breached:
                return None
            st.since, st.clear_since = now, None
            if pending_s <= 0:
                st.state = FIRING
                return "fired"
            st.state = PENDING
            return "pending"
        if st.state == PENDING:
            if not breached:
                st.state = INACTIVE
                return "canceled"
            if now - st.since + self.slack_s >= pending_s:
                st.state = FIRING
                return "fired"
            return None
        if breached:
            st.clear_since = None
            return None
        if st.clear_since is None:
            st.clear_since = now
        if now - st.clear_since + self.slack_s >= self.hold_s:
            st.state, st.clear_since = INACTIVE, None
            return "resolved"
        return None

    def firing(self) -> list[str]:
        return [name for name, st in self.states.items() if st.state == FIRING]
