"""The monitoring report's charts: PNG files drawn with matplotlib's Agg backend.

``matplotlib.figure.Figure`` with an Agg canvas is used instead of ``pyplot``:
pyplot keeps global state and picks a GUI backend, while a bare figure is
safe to draw in the monitor's report thread on a machine with no display.
A chart with nothing to show still gets its file, saying "no data yet", so
the Markdown never links to a missing image.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from taskwarden.reports.figures import Figures

SIZE = (9.0, 3.2)
DPI = 100


def _times(values: list[float]) -> list[float]:
    """Epoch seconds as matplotlib date numbers, in local time like the rest of the report."""
    return [float(date2num(datetime.fromtimestamp(v))) for v in values]


def _draw(path: Path, title: str, has_data: bool, plot: Callable[[Axes], None]) -> Path:
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=11)
    if has_data:
        plot(ax)
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    else:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", fontsize=14, color="grey",
                transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(path, format="png")
    return path


def success_rate(f: Figures, path: Path) -> Path:
    points = [s for s in f.series if s["rate"] is not None]

    def plot(ax: Axes) -> None:
        ax.plot(_times([s["t"] for s in points]), [100 * s["rate"] for s in points], marker=".",
                color="tab:green", label="success rate")
        ax.axhline(100 * f.thresholds["success_rate_min"], color="tab:red", ls="--",
                   label=f"alert threshold {f.thresholds['success_rate_min']:.0%}")
        ax.set_ylim(0, 105)
        ax.set_ylabel("%")

    return _draw(path, "Success rate", bool(points), plot)


def latency(f: Figures, path: Path) -> Path:
    points = [s for s in f.series if s["p50"] is not None]

    def plot(ax: Axes) -> None:
        xs = _times([s["t"] for s in points])
        for key, color in (("p50", "tab:blue"), ("p95", "tab:orange"), ("p99", "tab:purple")):
            ax.plot(xs, [s[key] for s in points], marker=".", color=color, label=key)
        ax.axhline(f.thresholds["p95_latency_max_s"], color="tab:red", ls="--",
                   label=f"p95 threshold {f.thresholds['p95_latency_max_s']:g}s")
        ax.set_ylabel("seconds")

    return _draw(path, "Latency (enqueue to finish)", bool(points), plot)


def queue(f: Figures, path: Path) -> Path:
    points = [g for g in f.gauges if g["ready"] is not None]

    def plot(ax: Axes) -> None:
        warn, crit = f.thresholds["queue_warning"], f.thresholds["queue_critical"]
        top = max([crit + 5] + [g["ready"] * 1.1 for g in points])
        ax.axhspan(warn, crit, color="gold", alpha=0.25, label=f"warning {warn:g}-{crit - 1:g}")
        ax.axhspan(crit, top, color="red", alpha=0.15, label=f"critical {crit:g}+")
        ax.step(_times([g["at"] for g in points]), [g["ready"] for g in points], where="post",
                color="tab:blue", label="ready tasks")
        ax.set_ylim(0, top)
        ax.set_ylabel("tasks")

    return _draw(path, "Queue size", bool(points), plot)


def workers(f: Figures, path: Path) -> Path:
    points = [g for g in f.gauges if g["workers"] is not None]

    def plot(ax: Axes) -> None:
        xs = _times([g["at"] for g in points])
        ax.step(xs, [g["workers"] for g in points], where="post", color="tab:blue", label="workers alive")
        ax.step(xs, [g["desired"] for g in points], where="post", color="grey", ls="--", label="desired")
        ax.step(xs, [g["wardens"] for g in points], where="post", color="tab:brown", alpha=0.7,
                label="wardens alive")
        top = max([1] + [max(g["workers"] or 0, g["desired"] or 0, g["wardens"] or 0) for g in points])
        ax.set_ylim(-0.2, top + 1)
        ax.set_ylabel("processes")

    return _draw(path, "Workers and wardens", bool(points), plot)


CHARTS = {"success_rate": success_rate, "latency": latency, "queue": queue, "workers": workers}


def draw_all(f: Figures, folder: Path, prefix: str) -> dict[str, Path]:
    """Every chart as ``<prefix>-<name>.png`` in ``folder``; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: draw(f, folder / f"{prefix}-{name}.png") for name, draw in CHARTS.items()}
