"""Wake-ups for long-polls, so nobody sleeps in a loop waiting for work or results.

A waiter re-checks the store when woken *or* after a short interval: the
interval covers changes made by another server replica or process that this
one cannot hear about.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict


class Signal:
    """Wakes every current waiter at once; later waiters wait for the next notify."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


class TaskWatch:
    """Per-task signals for ``GET /api/tasks/{id}?wait=S``."""

    def __init__(self) -> None:
        self._signals: dict[int, Signal] = defaultdict(Signal)

    def notify(self, task_id: int) -> None:
        signal = self._signals.pop(task_id, None)
        if signal is not None:
            signal.notify()

    async def wait(self, task_id: int, timeout: float) -> None:
        await self._signals[task_id].wait(timeout)
