"""The monitor process: sample, judge, alert, every sample interval, until told to stop.

One monitor per data directory (an OS lock, like the warden's): two would
fire every alert twice. The loop keeps a fixed schedule (a slow tick is not
followed by a drift of every later one). Side work runs in threads of its
own so nothing delays sampling: the canary (a round trip may take its whole
timeout), webhooks (:mod:`notifiers`) and the heartbeat that tells
``/api/workers`` and the warden that a monitor is alive.

SIGTERM/SIGINT are only recorded by their handlers; the loop notices within
a moment, stops the threads and exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from taskwarden.client import Client
from taskwarden.config import Config
from taskwarden.errors import TaskwardenError
from taskwarden.locks import ProcessLock
from taskwarden.monitor import sampler
from taskwarden.monitor.alerts import AlertBook
from taskwarden.monitor.anomaly import KEEP_DAYS, Detector
from taskwarden.monitor.baseline import BaselineKeeper
from taskwarden.monitor.canary import Canary
from taskwarden.monitor.engine import Engine, Transition
from taskwarden.monitor.notifiers import Notifier
from taskwarden.monitor.rules import BUILTIN, Thresholds, judge
from taskwarden.reports import schedule as reports_schedule
from taskwarden.store.base import Store

log = logging.getLogger("taskwarden.monitor")
EXIT_OK = 0
PRUNE_EVERY_S = 3600.0  # configured seconds


class Monitor:
    def __init__(self, config: Config, store: Store, client: Client | None = None,
                 thresholds: Callable[[], Thresholds] | None = None) -> None:
        self.config, self.store = config, store
        self.client = client or Client(config.server_url, config.server.token)
        self.baseline = BaselineKeeper(config, store, self.record_event)
        # Learned thresholds from <data_dir>/baseline.json (reloaded when it changes), defaults as floors.
        self.thresholds = thresholds or self.baseline.thresholds
        self.detector = Detector(hour_s=config.seconds(3600.0))
        m = config.monitor
        self.interval = config.seconds(m.sample_s)
        self.engine = Engine(BUILTIN, pending_s=m.pending_samples * self.interval,
                             hold_s=config.seconds(m.hold_s), slack_s=self.interval / 4)
        self.notifier = Notifier(m.webhooks, m.slack_webhooks, m.webhook_timeout_s, m.webhook_retries)
        self.book = AlertBook(store, config.data_dir / "outputs" / "alerts", self.notifier,
                              self.record_event)
        self.id = f"{socket.gethostname()}-monitor-{os.getpid()}"
        self.started_at = time.time()
        self.signals = 0
        self._wake = threading.Event()
        self._next_prune = 0.0

    # -- signals: record only, the loop acts ----------------------------------
    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signals += 1
        self._wake.set()

    def run(self) -> int:
        lock = ProcessLock(self.config.data_dir / "run", "monitor")
        if not lock.acquire():
            log.info("a monitor already runs for this data directory (%s); not starting another",
                     lock.describe_holder())
            return EXIT_OK
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for alert in self.book.load():
            self.engine.restore(alert.name, alert.state, alert.started_at)
        self.load_history(time.time())
        self.notifier.start()
        threads = [threading.Thread(target=self._beat_forever, daemon=True, name="heartbeat"),
                   threading.Thread(target=self._canary().run_forever, args=(self.interval,),
                                    daemon=True, name="canary")]
        for thread in threads:
            thread.start()
        log.info("monitor %s started: a sample every %.3gs, canary every %.3gs", self.id,
                 self.interval, self.config.seconds(self.config.monitor.canary_s))
        try:
            self._loop()
        finally:
            self._wake.set()
            self.notifier.stop()
            self._heartbeat("stopped")
            lock.release()
            log.info("monitor %s stopped", self.id)
        return EXIT_OK

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self.signals:
            self.safe_tick(time.time())
            # Hourly (time-scaled) reports, in their own thread and connection: never stalls sampling.
            reports_schedule.maybe_generate_in_background(self.config, time.time())
            next_at += self.interval
            late = time.monotonic() - next_at
            if late > 0:  # a tick took longer than an interval: skip, do not bunch up
                next_at += (late // self.interval + 1) * self.interval
            self._wake.wait(max(0.0, next_at - time.monotonic()))

    def _canary(self) -> Canary:
        m = self.config.monitor
        return Canary(self.client, self.store, self.config.seconds(m.canary_s),
                      self.config.seconds(m.canary_timeout_s), self.record_event, self._wake)

    # -- one tick ------------------------------------------------------------
    def safe_tick(self, now: float) -> list[Transition]:
        """A failing tick (store briefly unreachable) is logged; the next one tries again."""
        try:
            return self.tick(now)
        except TaskwardenError as exc:
            log.warning("sample at %.3f failed: %s", now, exc)
        except Exception:
            log.exception("sample at %.3f failed unexpectedly", now)
        return []

    def tick(self, now: float) -> list[Transition]:
        """Take and store a sample, judge it, act on what changed."""
        sample = sampler.take(self.store, self.config, now)
        sample["anomalies"] = self.detector.observe_sample(now, sample)
        self.store.add_sample("sample", sample, now)
        transitions = self.engine.evaluate(now, judge(BUILTIN, sample, self.thresholds()))
        self.book.apply(transitions)
        self.baseline.maybe_learn(now)
        if now >= self._next_prune:
            self._next_prune = now + self.config.seconds(PRUNE_EVERY_S)
            pruned = self.store.prune_samples(now - self.config.seconds(self.config.monitor.retention_s))
            if pruned:
                log.info("pruned %d samples past retention", pruned)
        return transitions

    def load_history(self, now: float) -> None:
        """Replay stored samples into the anomaly detector, so a restart does not go cold again."""
        since = now - self.config.seconds(KEEP_DAYS * 24 * 3600.0)
        for past in self.store.samples("sample", since, limit=1_000_000):
            self.detector.replay(past.at, past.data)

    def record_event(self, kind: str, subject: str, detail: dict[str, Any]) -> None:
        """Straight into the store: an event must be kept even while the server is down.
        The server's SSE stream polls the store, so live pages still see it within a second."""
        try:
            self.store.record_event(kind, subject, detail, time.time())
        except TaskwardenError as exc:
            log.error("could not record event %s %s: %s", kind, subject, exc)

    # -- heartbeat -----------------------------------------------------------
    def _beat_forever(self) -> None:
        interval = self.config.heartbeat_seconds()
        while not self._wake.is_set():
            self._heartbeat("idle")
            self._wake.wait(interval)

    def _heartbeat(self, status: str) -> None:
        try:
            self.client.heartbeat({"id": self.id, "host": socket.gethostname(), "pid": os.getpid(),
                                   "slot": 0, "role": "monitor", "status": status,
                                   "started_at": self.started_at})
        except TaskwardenError as exc:
            log.debug("monitor heartbeat failed: %s", exc)
