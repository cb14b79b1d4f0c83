"""When a dead child may start again, and when its restarts become an alert.

DESIGN.md's policy: the first death restarts at once; then 5 s, doubling, to a
60 s cap; the streak is forgotten after 60 s of stable running. More than
``restart_limit`` restarts within ``restart_window_s`` is an alert, but the
retries go on at the cap: an unattended system never gives up.

All durations arrive here already in real seconds (the caller applies the
time scale), and ``now`` is passed in, so this module never sleeps and is
tested with plain numbers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """The restart delay for a streak of deaths without stable running in between."""

    start_s: float
    max_s: float
    stable_s: float
    streak: int = 0  # deaths since the child last ran stably

    def next_delay(self) -> float:
        """Record a death; the delay before the restart that answers it."""
        self.streak += 1
        if self.streak == 1:
            return 0.0
        return min(self.max_s, self.start_s * 2 ** (self.streak - 2))

    def ran_stably(self, running_for_s: float) -> bool:
        """Forget the streak once the child has run ``stable_s``; True when this call forgot it."""
        if self.streak and running_for_s >= self.stable_s:
            self.streak = 0
            return True
        return False


@dataclass
class RestartWindow:
    """Restarts within a sliding window, and the exit codes that caused them."""

    limit: int
    window_s: float
    times: deque[float] = field(default_factory=deque)
    exit_codes: deque[int | None] = field(default_factory=lambda: deque(maxlen=10))

    def record(self, now: float, exit_code: int | None) -> None:
        self.times.append(now)
        self.exit_codes.append(exit_code)
        self._forget(now)

    def count(self, now: float) -> int:
        self._forget(now)
        return len(self.times)

    def exceeded(self, now: float) -> bool:
        """More than ``limit`` restarts in the window."""
        return self.count(now) > self.limit

    def _forget(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.window_s:
            self.times.popleft()
