"""One sample: the figures of ``/api/stats`` plus what the rules and the reports need.

Built on :func:`taskwarden.stats.snapshot`, so a sample, ``/api/stats`` and
``/metrics`` can never disagree about what "success rate" means. Everything
is counted by the store in SQL; the sample itself is a small JSON document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taskwarden import stats
from taskwarden.config import Config
from taskwarden.store.base import Store

#: "The last 20 results": the user's own yardstick, kept beside the time windows.
RECENT_COUNT = 20


def take(store: Store, config: Config, now: float) -> dict[str, Any]:
    """Measure everything once at ``now``; a plain dict, stored as a ``sample``."""
    m = config.monitor
    sample = stats.snapshot(store, config, now)
    windows = sample["success_rate"]
    for counts in windows.values():
        counts["judged"] = counts["succeeded"] + counts["failed"] + counts["dead"]
    windows["last20"] = _window(store.recent_outcomes(RECENT_COUNT))
    windows["short"] = _window(store.outcome_counts(now - config.seconds(m.success_short_s)))
    windows["long"] = _window(store.outcome_counts(now - config.seconds(m.success_long_s)))
    # Per configured minute: under a time scale of 60 a "minute" lasts one real second.
    sample["throughput"] = {"window_s": m.success_short_s, "finished": windows["short"]["judged"],
                            "per_minute": round(windows["short"]["judged"] * 60 / m.success_short_s, 3)}
    hour_ago = now - config.seconds(stats.WINDOWS["1h"])
    actions = store.action_outcomes(hour_ago)
    errors = store.error_classes(hour_ago)
    sample["actions"] = {name: {**_window(counts), "errors": errors.get(name, {})}
                         for name, counts in sorted(actions.items())}
    sample["errors"] = {f"{action}:{cls}": n for action, classes in errors.items()
                        for cls, n in classes.items()}
    latest = store.latest_sample("canary")
    sample["last_canary"] = {"at": latest.at, **latest.data} if latest else None
    sample["restart_alerts"] = restart_alerts(config.data_dir / "outputs" / "alerts")
    return sample


def _window(counts: dict[str, int]) -> dict[str, Any]:
    judged = counts["succeeded"] + counts["failed"] + counts["dead"]
    return {**counts, "judged": judged, "rate": stats.success_rate(counts)}


def restart_alerts(alerts_dir: Path) -> list[dict[str, Any]]:
    """The warden's ``*_alert.json`` files that say ``firing`` (restart limit hit).

    The warden writes them even while the server is down, so the file, not an
    event, is the source of truth. Unreadable or half-written files are skipped.
    """
    firing = []
    for path in sorted(alerts_dir.glob("*_alert.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("status") == "firing":
            firing.append({"component": doc.get("component", path.stem.removesuffix("_alert")),
                           "reason": doc.get("reason"), "fired_at": doc.get("fired_at"),
                           "file": path.name})
    return firing
