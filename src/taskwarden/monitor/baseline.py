"""Learn what normal is from the monitor's own samples: ``baseline.json`` and ``baseline.md``.

The method, step by step, so a person can redo it by hand on the same samples:

1. Take the ``sample`` records of the last ``hours`` (time-scaled) and drop every
   one taken while an alert was firing (``fired_at <= at <= resolved_at``, or up
   to now for an alert still firing): a baseline must describe normal, not an incident.
2. Refuse (:class:`NotEnoughData`) when what is left covers less than
   :data:`MIN_HOURS` (time-scaled): ``kept samples x sample interval``.
3. Per series, drop outliers first: values more than :data:`OUTLIER_Z` robust
   z-scores from the median (``|x - median| / (1.4826 * MAD)``). The mean and the
   standard deviation are the two figures a single spike pulls; the median and
   the MAD are not, so they decide what a spike is. With a MAD of 0 (a flat
   series) nothing is dropped.
4. Success rate, per window (1h, 6h, 24h): mean and sample standard deviation
   (``statistics.stdev``); threshold = ``max(mean - 2 sigma, 70 %)``.
5. p95 latency (each sample's 1h p95): its 95th percentile
   (``statistics.quantiles(n=20, method="inclusive")[18]``) plus 2 sigma.
6. Worker count target: the median of workers alive (rounded), beside the desired count.
7. Queue bands: median and MAD of the ready queue; normal up to
   ``ceil(median + 3 * 1.4826 * MAD)``; warning at the next size (never below the
   default), critical keeps the default distance above warning.

The monitor applies the result through :meth:`Thresholds.with_baseline`, so the
defaults of DESIGN.md stay floors: a baseline learned on a bad week cannot teach
the monitor that 50 % success is fine. The 1h success threshold is the one the
rule uses (its long window is an hour).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taskwarden.config import Config
from taskwarden.errors import TaskwardenError
from taskwarden.monitor.rules import Thresholds
from taskwarden.store.base import Sample, Store
from taskwarden.supervision.alert_file import write_json

log = logging.getLogger("taskwarden.monitor.baseline")
MIN_HOURS = 6.0
OUTLIER_Z = 5.0
MAD_TO_SIGMA = 1.4826  # MAD x this estimates sigma for normally distributed data
SUCCESS_FLOOR = 0.70
WINDOWS = ("1h", "6h", "24h")
DAY_S, RETRY_S = 24 * 3600.0, 3600.0  # configured seconds: relearn daily, retry hourly
RecordEvent = Callable[[str, str, dict[str, Any]], None]


class NotEnoughData(TaskwardenError):
    """Too few normal samples to learn from; the message says how many and how many are needed."""


def paths(config: Config) -> tuple[Path, Path]:
    return config.data_dir / "baseline.json", config.data_dir / "baseline.md"


# -- statistics ------------------------------------------------------------
def robust_keep(values: list[float], z: float = OUTLIER_Z) -> list[float]:
    """The values within ``z`` robust z-scores of the median (all of them when MAD is 0)."""
    if len(values) < 3:
        return list(values)
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    if mad == 0:
        return list(values)
    return [v for v in values if abs(v - med) / (MAD_TO_SIGMA * mad) <= z]


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def success_stats(values: list[float], floor: float = SUCCESS_FLOOR) -> dict[str, Any] | None:
    kept = robust_keep(values)
    if not kept:
        return None
    mean, sd = statistics.fmean(kept), _sd(kept)
    return {"n": len(kept), "dropped": len(values) - len(kept), "mean": mean, "stdev": sd,
            "threshold": max(mean - 2 * sd, floor)}


def latency_stats(values: list[float]) -> dict[str, Any] | None:
    kept = robust_keep(values)
    if not kept:
        return None
    p95 = statistics.quantiles(kept, n=20, method="inclusive")[18] if len(kept) > 1 else kept[0]
    sd = _sd(kept)
    return {"n": len(kept), "dropped": len(values) - len(kept), "p95": p95, "stdev": sd,
            "threshold": p95 + 2 * sd}


def queue_stats(values: list[float], defaults: Thresholds) -> dict[str, Any] | None:
    if not values:
        return None
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    normal_max = math.ceil(med + 3 * MAD_TO_SIGMA * mad)
    warning = max(defaults.queue_warning, normal_max + 1)
    critical = max(defaults.queue_critical, warning + defaults.queue_critical - defaults.queue_warning)
    return {"n": len(values), "median": med, "mad": mad, "max": max(values), "normal_max": normal_max,
            "warning": warning, "critical": critical}


# -- learning --------------------------------------------------------------
def normal_samples(store: Store, since: float, now: float) -> tuple[list[Sample], int]:
    """Samples since ``since`` taken while no alert fired; and how many were dropped for alerts."""
    samples = store.samples("sample", since, limit=1_000_000)
    spans = [(a.fired_at, a.resolved_at or now) for a in store.alerts(since=0.0, limit=100_000)
             if a.fired_at is not None and (a.resolved_at or now) >= since]
    kept = [s for s in samples if not any(lo <= s.at <= hi for lo, hi in spans)]
    return kept, len(samples) - len(kept)


def _series(samples: list[Sample], pick: Callable[[dict[str, Any]], Any]) -> list[float]:
    out = []
    for s in samples:
        try:
            value = pick(s.data)
        except (KeyError, TypeError):
            continue
        if value is not None:
            out.append(float(value))
    return out


def learn(store: Store, config: Config, now: float, hours: float = MIN_HOURS) -> dict[str, Any]:
    """The baseline document from the last ``hours``; :class:`NotEnoughData` when too little."""
    interval = config.seconds(config.monitor.sample_s)
    since = now - config.seconds(hours * 3600)
    kept, dropped = normal_samples(store, since, now)
    covered_h = len(kept) * interval * config.time_scale / 3600
    if covered_h + 1e-9 < MIN_HOURS - config.monitor.sample_s / 3600:
        raise NotEnoughData(
            f"not enough normal data to learn a baseline: {len(kept)} samples without a firing alert"
            f" cover {covered_h:.2f} h of the last {hours:g} h; at least {MIN_HOURS:g} h are needed"
            f" (time-scaled; {dropped} samples were taken during alerts). Let the stack run longer"
            + (" or widen --hours." if hours <= MIN_HOURS * 4 else "."))
    defaults = Thresholds.from_config(config.monitor)
    success = {w: success_stats(_series(kept, _rate_in(w)), defaults.success_rate_min) for w in WINDOWS}
    latency = latency_stats(_series(kept, lambda d: d["latency"]["total"]["p95"]))
    alive = _series(kept, lambda d: d["workers"]["alive"])
    desired = _series(kept, lambda d: d["workers"]["desired"])
    queue = queue_stats(_series(kept, lambda d: d["queue"]["ready"]), defaults)
    doc: dict[str, Any] = {
        "version": 1, "learned_at": now, "time_scale": config.time_scale,
        "period": {"start": kept[0].at, "end": kept[-1].at, "hours": hours, "covered_hours": covered_h},
        "samples": {"kept": len(kept), "dropped_for_alerts": dropped},
        "success_rate": success, "latency_p95": latency, "queue": queue,
        "workers": {"target": round(statistics.median(alive)) if alive else None,
                    "desired": int(statistics.mode(desired)) if desired else None},
    }
    doc["thresholds"] = dataclasses.asdict(apply(defaults, doc))
    return doc


def apply(defaults: Thresholds, doc: dict[str, Any]) -> Thresholds:
    """The thresholds a baseline document gives, with ``defaults`` as floors."""
    success = (doc.get("success_rate") or {}).get("1h")
    latency = doc.get("latency_p95")
    out = defaults.with_baseline(success_rate_min=success["threshold"] if success else None,
                                 p95_latency_max_s=latency["threshold"] if latency else None)
    queue = doc.get("queue")
    if queue:
        warning = max(defaults.queue_warning, int(queue["warning"]))
        critical = max(defaults.queue_critical, int(queue["critical"]), warning + 1)
        out = dataclasses.replace(out, queue_warning=warning, queue_critical=critical)
    return out


def write(config: Config, doc: dict[str, Any]) -> tuple[Path, Path]:
    """Both files, atomically; the JSON last, since the monitor watches that one."""
    json_path, md_path = paths(config)
    md_tmp = md_path.with_name(f".{md_path.name}.tmp")
    md_tmp.write_text(markdown(doc))
    md_tmp.replace(md_path)
    write_json(json_path, doc)
    return json_path, md_path


def event_detail(doc: dict[str, Any]) -> dict[str, Any]:
    """Flat figures for the ``baseline_learned`` event (the loop report lists them as they are)."""
    t = doc["thresholds"]
    return {"success_rate_min": round(t["success_rate_min"], 4),
            "p95_latency_max_s": round(t["p95_latency_max_s"], 4),
            "queue_warning": t["queue_warning"], "queue_critical": t["queue_critical"],
            "workers_target": doc["workers"]["target"], "samples": doc["samples"]["kept"],
            "hours": doc["period"]["hours"]}


def learn_and_write(store: Store, config: Config, now: float, hours: float,
                    record_event: RecordEvent) -> dict[str, Any]:
    doc = learn(store, config, now, hours)
    write(config, doc)
    record_event("baseline_learned", "baseline", event_detail(doc))
    return doc


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def markdown(doc: dict[str, Any]) -> str:
    """The person's copy: what was learned, from what, and the thresholds now in force."""
    t, p, q, lat = doc["thresholds"], doc["period"], doc["queue"], doc["latency_p95"]
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(doc["learned_at"]))
    lines = [f"# Baseline learned {when}", "",
             f"From {doc['samples']['kept']} samples covering {p['covered_hours']:.2f} h of the last"
             f" {p['hours']:g} h (time scale {doc['time_scale']:g}); {doc['samples']['dropped_for_alerts']}"
             " samples taken while an alert fired were left out. Outliers beyond"
             f" {OUTLIER_Z:g} robust z-scores (median/MAD) are dropped before mean and sigma.", "",
             "## Thresholds in force (defaults are floors)", "",
             "| rule | threshold |", "|---|---|",
             f"| success rate below | {t['success_rate_min']:.1%} |",
             f"| p95 latency above | {t['p95_latency_max_s']:.3f} s |",
             f"| queue warning at | {t['queue_warning']} |", f"| queue critical at | {t['queue_critical']} |",
             "", "## Success rate: threshold = max(mean - 2 sigma, 70 %)", "",
             "| window | samples | mean | sigma | threshold |", "|---|---|---|---|---|"]
    for w in WINDOWS:
        s = doc["success_rate"].get(w)
        lines.append(f"| {w} | {s['n']} | {_pct(s['mean'])} | {s['stdev']:.4f} | {_pct(s['threshold'])} |"
                     if s else f"| {w} | 0 | — | — | not learned (no data) |")
    lines += ["", "## Latency: threshold = p95 + 2 sigma of the sampled 1h p95", ""]
    lines.append(f"p95 {lat['p95']:.3f} s, sigma {lat['stdev']:.3f} s over {lat['n']} samples →"
                 f" {lat['threshold']:.3f} s" if lat else "not learned (no task finished)")
    lines += ["", "## Workers and queue", "",
              f"Worker count target {doc['workers']['target']} (desired {doc['workers']['desired']}).", ""]
    if q:
        lines.append(f"Ready queue: median {q['median']:g}, MAD {q['mad']:g}, max {q['max']:g};"
                     f" normal up to {q['normal_max']}, warning at {q['warning']},"
                     f" critical at {q['critical']}.")
    return "\n".join(lines) + "\n"


class BaselineKeeper:
    """The monitor's side: thresholds from ``baseline.json`` (reloaded when the file changes)
    and a daily relearn once enough data exists."""

    def __init__(self, config: Config, store: Store, record_event: RecordEvent) -> None:
        self.config, self.store, self.record_event = config, store, record_event
        self.defaults = Thresholds.from_config(config.monitor)
        self._current = self.defaults
        self._stamp: tuple[float, int] | None = None
        self._next_learn = 0.0

    def thresholds(self) -> Thresholds:
        """The learned thresholds when a readable baseline exists, else the defaults."""
        path = paths(self.config)[0]
        try:
            st = path.stat()
            stamp = (st.st_mtime, st.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._stamp = stamp
            self._current = self._load(path) if stamp else self.defaults
        return self._current

    def _load(self, path: Path) -> Thresholds:
        try:
            doc = json.loads(path.read_text())
            learned = apply(self.defaults, doc)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("ignoring unreadable %s (%s); using the default thresholds", path, exc)
            return self.defaults
        log.info("thresholds from %s: %s", path, learned)
        return learned

    def learned_at(self) -> float | None:
        try:
            return float(json.loads(paths(self.config)[0].read_text())["learned_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def maybe_learn(self, now: float) -> dict[str, Any] | None:
        """Relearn once a (scaled) day; while data is short, try again every (scaled) hour."""
        if now < self._next_learn:
            return None
        last = self.learned_at()
        if last is not None and now - last < self.config.seconds(DAY_S):
            self._next_learn = last + self.config.seconds(DAY_S)
            return None
        try:
            doc = learn_and_write(self.store, self.config, now, 24.0, self.record_event)
        except NotEnoughData as exc:
            log.debug("%s", exc)
            self._next_learn = now + self.config.seconds(RETRY_S)
            return None
        self._next_learn = now + self.config.seconds(DAY_S)
        log.info("baseline learned: %s", event_detail(doc))
        return doc


def _rate_in(window: str) -> Callable[[dict[str, Any]], Any]:
    """Reads one window's success rate out of a sample."""
    return lambda data: data["success_rate"][window]["rate"]
