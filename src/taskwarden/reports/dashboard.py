"""The performance dashboard: one self-contained HTML file with interactive charts.

It must open from disk on a machine with no network, so plotly.js is inlined
from the installed ``plotly`` package (``plotly.offline.get_plotlyjs``) rather
than linked from a CDN. The figures travel as one JSON document in a
``<script type="application/json">`` element (Jinja's ``tojson`` escapes
``<``, ``>`` and ``&``, so no value can close the element), and every text
that came from a task is HTML-escaped before plotly sees it: plotly renders a
few HTML tags in labels, and a task named ``<b>x</b>`` must not be bold.
"""

from __future__ import annotations

import html
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from taskwarden.reports.figures import Figures
from taskwarden.reports.render import render


@cache
def plotly_js() -> str:
    """plotly.min.js as shipped in the plotly wheel (about 4.8 MB, read once per process)."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return get_plotlyjs()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).isoformat(timespec="milliseconds")


def _text(value: Any) -> str:
    return html.escape(str(value))


def payload(f: Figures) -> dict[str, Any]:
    """The chart data: every series of the monitoring report, plus the two timelines."""
    rated = [s for s in f.series if s["rate"] is not None]
    timed = [s for s in f.series if s["p50"] is not None]
    return {
        "period": [_iso(f.period.start), _iso(f.period.end)],
        "thresholds": f.thresholds,
        "success": {"x": [_iso(s["t"]) for s in rated], "y": [round(100 * s["rate"], 2) for s in rated],
                    "n": [s["judged"] for s in rated]},
        "latency": {"x": [_iso(s["t"]) for s in timed],
                    **{k: [s[k] for s in timed] for k in ("p50", "p95", "p99")}},
        "gauges": {"x": [_iso(g["at"]) for g in f.gauges],
                   **{k: [g[k] for g in f.gauges] for k in ("ready", "workers", "desired", "wardens")}},
        "alerts": [{"name": _text(a["name"]), "severity": a["severity"], "start": _iso(a["fired_at"]),
                    "end": _iso(a["resolved_at"] if a["resolved_at"] is not None else f.period.end),
                    "summary": _text(a["summary"])} for a in f.alerts],
        "healing": [{"at": _iso(h["at"]), "act": h["act"], "what": _text(h["what"])} for h in f.healing],
        "canary": [{"at": _iso(c["at"]), "ok": bool(c.get("ok")),
                    "what": _text(c.get("error") or f"round trip {c.get('round_trip_s')}s")}
                   for c in _canary_runs(f)],
    }


def _canary_runs(f: Figures) -> list[dict[str, Any]]:
    return [{"at": e.at, **e.detail} for e in f.events if e.kind in ("canary_passed", "canary_failed")]


def html_page(f: Figures, time_scale: float = 1.0) -> str:
    failing = [a for a in f.actions if a["failures"]][:10]
    return render("dashboard.html.j2", f=f, data=payload(f), scale=time_scale, failing=failing,
                  queue=f.gauge_stats("ready"), plotly=Markup(plotly_js()))


def write(f: Figures, path: Path, time_scale: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_page(f, time_scale), encoding="utf-8")
    return path
