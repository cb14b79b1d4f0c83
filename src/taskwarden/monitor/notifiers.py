"""Webhook delivery: a generic JSON body, or a Slack-compatible ``{"text": ...}``.

Each URL gets its own daemon thread and bounded queue, so a webhook that is
down, refuses or hangs delays nothing but its own messages: the monitor loop
only puts a message on a queue. Delivery is retried with a doubling pause; a
message that still fails is logged and dropped, and a full queue drops the
oldest message first, because the newest state is what a person needs.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger("taskwarden.monitor.notifiers")
QUEUE_SIZE = 200
FIRST_RETRY_S = 0.5


@dataclass(frozen=True)
class Target:
    url: str
    slack: bool = False


def slack_text(message: dict[str, Any]) -> str:
    """One line a person can act on: what, how bad, and the numbers."""
    icon = ":rotating_light:" if message["event"] == "alert_fired" else ":white_check_mark:"
    verb = "FIRING" if message["event"] == "alert_fired" else "resolved"
    return f"{icon} [{message['severity']}] {message['name']} {verb}: {message['summary']}"


def body_for(target: Target, message: dict[str, Any]) -> dict[str, Any]:
    return {"text": slack_text(message)} if target.slack else message


class Notifier:
    """Fan-out of alert messages to every configured webhook, off the caller's thread."""

    def __init__(self, webhooks: tuple[str, ...] = (), slack_webhooks: tuple[str, ...] = (),
                 timeout_s: float = 5.0, retries: int = 3) -> None:
        self.targets = [Target(u) for u in webhooks] + [Target(u, slack=True) for u in slack_webhooks]
        self.timeout_s, self.retries = timeout_s, retries
        self._queues = {t: queue.Queue[dict[str, Any] | None](QUEUE_SIZE) for t in self.targets}
        self._threads: list[threading.Thread] = []
        self.delivered = 0
        self.dropped = 0

    def start(self) -> None:
        for target, q in self._queues.items():
            thread = threading.Thread(target=self._deliver_forever, args=(target, q), daemon=True,
                                      name=f"webhook:{target.url}")
            thread.start()
            self._threads.append(thread)

    def send(self, message: dict[str, Any]) -> None:
        """Queue ``message`` for every target; never blocks."""
        for target, q in self._queues.items():
            while True:
                try:
                    q.put_nowait(message)
                    break
                except queue.Full:
                    self._drop_oldest(target, q)

    def _drop_oldest(self, target: Target, q: queue.Queue[dict[str, Any] | None]) -> None:
        try:
            q.get_nowait()
            self.dropped += 1
            log.warning("webhook %s is not keeping up; dropped its oldest message", target.url)
        except queue.Empty:
            pass

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask the threads to finish what is queued; daemon threads never hold up an exit."""
        for q in self._queues.values():
            with contextlib.suppress(queue.Full):
                q.put_nowait(None)
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _deliver_forever(self, target: Target, q: queue.Queue[dict[str, Any] | None]) -> None:
        with httpx.Client(timeout=self.timeout_s) as http:
            while (message := q.get()) is not None:
                self._deliver(http, target, message)

    def _deliver(self, http: httpx.Client, target: Target, message: dict[str, Any]) -> None:
        pause = FIRST_RETRY_S
        for attempt in range(1, self.retries + 2):
            try:
                response = http.post(target.url, json=body_for(target, message))
                if response.status_code < 300:
                    self.delivered += 1
                    return
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt > self.retries:
                break
            log.info("webhook %s failed (%s); retry %d in %.1fs", target.url, problem, attempt, pause)
            time.sleep(pause)
            pause *= 2
        log.warning("webhook %s gave up on %s %s after %d attempts: %s", target.url,
                    message.get("event"), message.get("name"), self.retries + 1, problem)
