"""Prometheus exposition of the figures ``/api/stats`` answers, read at scrape time.

A custom collector over :func:`taskwarden.stats.snapshot` rather than
counters updated in place: the server may run as several replicas over one
store, and every replica must expose the same numbers the API does. All
families are gauges over windows (the store already did the counting);
names follow Prometheus conventions (base units, ``_ratio``, ``_seconds``).
A figure that is undefined (a window with no finished task) is left out
rather than exported as 0 or NaN, so ``absent()`` can tell the two apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from taskwarden import clock, stats
from taskwarden.config import Config
from taskwarden.monitor.rules import BUILTIN
from taskwarden.store.base import Store

PREFIX = "taskwarden"


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))


class StatsCollector(Collector):
    """Reads the store once per scrape."""

    def __init__(self, store: Store, config: Config, now: Callable[[], float] = clock.now) -> None:
        self.store, self.config, self.now = store, config, now

    def collect(self) -> Iterator[Metric]:
        now = self.now()
        snap = stats.snapshot(self.store, self.config, now)
        yield from self._queue(snap)
        yield from self._outcomes(snap)
        yield from self._latency(snap)
        yield from self._processes(snap)
        yield from self._actions(now)
        yield from self._canary()
        yield from self._alerts()

    def _queue(self, snap: dict) -> Iterator[Metric]:
        by_state = _gauge("queue_tasks", "Tasks in the store by state.", ("state",))
        for state, n in snap["queue"]["by_state"].items():
            by_state.add_metric([state], n)
        ready = _gauge("queue_ready_tasks", "Queued tasks ready to run now: the queue size of the alerts.")
        ready.add_metric([], snap["queue"]["ready"])
        return iter((by_state, ready))

    def _outcomes(self, snap: dict) -> Iterator[Metric]:
        ratio = _gauge("success_ratio", "succeeded / (succeeded + failed + dead) over the window"
                       " ('short' is the success-rate alert's short window).", ("window",))
        finished = _gauge("finished_tasks", "Judged tasks finished within the window, by outcome.",
                          ("window", "state"))
        short_s = self.config.seconds(self.config.monitor.success_short_s)
        short = self.store.outcome_counts(snap["at"] - short_s)
        windows = {**snap["success_rate"], "short": {**short, "rate": stats.success_rate(short)}}
        for window, figures in windows.items():
            if figures["rate"] is not None:
                ratio.add_metric([window], figures["rate"])
            for state in ("succeeded", "failed", "dead"):
                finished.add_metric([window, state], figures[state])
        canary = _gauge("canary_success_ratio", "Canary success ratio over 24h.")
        if snap["canary"]["rate"] is not None:
            canary.add_metric([], snap["canary"]["rate"])
        return iter((ratio, finished, canary))

    def _latency(self, snap: dict) -> Iterator[Metric]:
        latency = _gauge("latency_seconds", "Nearest-rank quantiles over 1h: total = finished - enqueued,"
                                            " wait = started - enqueued, run = finished - started.",
                         ("span", "quantile"))
        for span, quantiles in snap["latency"].items():
            for name, value in quantiles.items():
                if value is not None:
                    latency.add_metric([span, str(stats.QUANTILES[name])], value)
        return iter((latency,))

    def _processes(self, snap: dict) -> Iterator[Metric]:
        figures = (("workers_alive", "Workers with a fresh heartbeat.", snap["workers"]["alive"]),
                   ("workers_desired", "Workers the warden is told to keep.", snap["workers"]["desired"]),
                   ("workers_busy", "Live workers running a task.", snap["workers"]["busy"]),
                   ("wardens_alive", "Wardens with a fresh heartbeat (more than 1 is a fault).",
                    snap["wardens"]["alive"]))
        for name, doc, value in figures:
            gauge = _gauge(name, doc)
            gauge.add_metric([], value)
            yield gauge

    def _actions(self, now: float) -> Iterator[Metric]:
        since = now - self.config.seconds(stats.WINDOWS["1h"])
        finished = _gauge("action_finished_tasks", "Judged tasks per action finished within 1h.",
                          ("action", "state"))
        for action, counts in sorted(self.store.action_outcomes(since).items()):
            for state, n in counts.items():
                finished.add_metric([action, state], n)
        errors = _gauge("action_errors", "Failed and dead tasks per action and error class within 1h.",
                        ("action", "error_class"))
        for action, classes in sorted(self.store.error_classes(since).items()):
            for error_class, n in sorted(classes.items()):
                errors.add_metric([action, error_class], n)
        return iter((finished, errors))

    def _canary(self) -> Iterator[Metric]:
        latest = self.store.latest_sample("canary")
        if latest is None:
            return
        for name, doc, value in (
                ("canary_up", "1 when the latest canary succeeded.", float(bool(latest.data.get("ok")))),
                ("canary_round_trip_seconds", "Round trip of the latest canary.",
                 latest.data.get("round_trip_s") or 0.0),
                ("canary_last_run_timestamp_seconds", "When the latest canary was sent.", latest.at)):
            gauge = _gauge(name, doc)
            gauge.add_metric([], value)
            yield gauge

    def _alerts(self) -> Iterator[Metric]:
        firing = {a.name: a for a in self.store.alerts(active=True, limit=1000) if a.state == "firing"}
        gauge = _gauge("alerts_firing", "1 while the built-in alert is firing.", ("name", "severity"))
        severities = {rule.name: rule.severity for rule in BUILTIN}
        severities.update({name: a.severity for name, a in firing.items()})
        for name, severity in sorted(severities.items()):
            gauge.add_metric([name, severity], float(name in firing))
        yield gauge


def registry_for(store: Store, config: Config, now: Callable[[], float] = clock.now) -> CollectorRegistry:
    """A registry of its own per app: the global one would mix in other apps' (tests') collectors."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatsCollector(store, config, now))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
