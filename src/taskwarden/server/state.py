"""What every route shares: configuration, store, wake-ups."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from taskwarden import clock
from taskwarden.config import Config
from taskwarden.server.wakeup import Signal, TaskWatch
from taskwarden.store.base import Event, Store, Task


@dataclass
class ServerState:
    config: Config
    store: Store
    work: Signal = field(default_factory=Signal)
    tasks: TaskWatch = field(default_factory=TaskWatch)
    events: Signal = field(default_factory=Signal)

    def now(self) -> float:
        return clock.now()

    def finished(self, changed: list[Task]) -> None:
        """Wake whoever waits on these tasks, and the leasers if some went back to the queue."""
        requeued = False
        for task in changed:
            self.tasks.notify(task.id)
            requeued = requeued or task.state == "queued"
        if requeued:
            self.work.notify()

    def event(self, kind: str, subject: str, **detail: object) -> Event:
        event = self.store.record_event(kind, subject, dict(detail), self.now())
        self.events.notify()
        return event


async def get_state(request: Request) -> ServerState:
    """Async on purpose: FastAPI runs a plain ``def`` dependency in a thread pool, per request."""
    return request.app.state.tw
