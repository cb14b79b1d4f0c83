"""The monitoring report: Markdown with its charts as PNG files beside it.

Charts come first, tables second, prose last: people would rather look than
read. Image links are relative, so the folder can be copied or attached as a
whole and still render.
"""

from __future__ import annotations

from pathlib import Path

from taskwarden.reports import charts
from taskwarden.reports.figures import Figures
from taskwarden.reports.render import render

#: Actions shown in "top failing actions".
TOP_FAILING = 10


def markdown(f: Figures, chart_names: dict[str, str], time_scale: float = 1.0) -> str:
    """The report's text; ``chart_names`` maps a chart to its file name beside the report."""
    desired = next((g["desired"] for g in reversed(f.gauges) if g["desired"] is not None), 1)
    return render("report.md.j2", f=f, charts=chart_names, scale=time_scale,
                  queue=f.gauge_stats("ready"), workers=f.gauge_stats("workers"),
                  wardens=f.gauge_stats("wardens"), workers_held=f.held("workers", desired),
                  wardens_held=f.held("wardens", 1),
                  failing=[a for a in f.actions if a["failures"]][:TOP_FAILING])


def write(f: Figures, folder: Path, stem: str, time_scale: float = 1.0) -> Path:
    """``<stem>.md`` and ``<stem>-<chart>.png`` in ``folder``; the Markdown's path."""
    drawn = charts.draw_all(f, folder, stem)
    path = folder / f"{stem}.md"
    path.write_text(markdown(f, {name: p.name for name, p in drawn.items()}, time_scale))
    return path
