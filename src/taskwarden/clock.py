"""Time, and the time scale that lets a 24 h run be rehearsed in minutes.

``TASKWARDEN_TIME_SCALE=60`` divides every interval and window by 60. All
code asks this module for durations instead of using raw seconds, so tests
and drills can run the real loops fast.
"""

from __future__ import annotations

import time


def now() -> float:
    """Wall-clock seconds since the epoch; what the store records."""
    return time.time()


class Clock:
    """Turns configured durations into real ones under a time scale."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        self.scale = scale

    def seconds(self, configured: float) -> float:
        """Real seconds for a configured duration."""
        return configured / self.scale

    def now(self) -> float:
        return time.time()
