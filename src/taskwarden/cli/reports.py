"""``taskwarden report | dashboard | loop-report | scorecard``: write a report now, from the store.

Each command reads the store directly (like ``backup``), so it works while the
server is down; files land under ``<data-dir>/outputs/``. The scheduled,
hourly sets are the monitor's job (:mod:`taskwarden.reports.schedule`).
"""

from __future__ import annotations

import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from taskwarden.cli.app import app, console, load_config
from taskwarden.config import Config
from taskwarden.store.base import Store

HOURS = typer.Option(24.0, "--hours", min=0.001, help="Length of the period, in (time-scaled) hours.")


@contextmanager
def _opened(ctx: typer.Context) -> Iterator[tuple[Config, Store, Path]]:
    from taskwarden.reports.schedule import reports_dir
    from taskwarden.store import open_store

    config = load_config(ctx)
    store = open_store(config)
    folder = reports_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield config, store, folder
    finally:
        store.close()


@app.command()
def report(ctx: typer.Context, hours: float = HOURS) -> None:
    """Monitoring report: Markdown with PNG charts beside it, under outputs/reports/."""
    from taskwarden.reports import monitoring
    from taskwarden.reports.figures import gather
    from taskwarden.reports.render import pct, secs
    from taskwarden.reports.schedule import stamp

    with _opened(ctx) as (config, store, folder):
        f = gather(store, config, time.time(), hours)
        path = monitoring.write(f, folder, f"report-{stamp(f.period.end)}", config.time_scale)
    if f.empty:
        console.print("no data yet: nothing finished or was sampled in this period")
    console.print(f"tasks {f.outcomes['judged']}, success {pct(f.outcomes['rate'])}, "
                  f"p95 {secs(f.latency['total']['p95'])}, alerts {len(f.alerts)}, "
                  f"healing acts {len(f.healing)}")
    console.print(f"report: {path}")


@app.command()
def dashboard(ctx: typer.Context, hours: float = HOURS,
              open_it: bool = typer.Option(False, "--open", help="Open it in the web browser.")) -> None:
    """Self-contained HTML performance dashboard (outputs/dashboard.html); no network needed."""
    from taskwarden.reports import dashboard as dash
    from taskwarden.reports.figures import gather

    with _opened(ctx) as (config, store, _folder):
        f = gather(store, config, time.time(), hours)
        path = dash.write(f, config.data_dir / "outputs" / "dashboard.html", config.time_scale)
    console.print(f"dashboard: {path}")
    if open_it:
        webbrowser.open(path.resolve().as_uri())


@app.command("loop-report")
def loop_report(ctx: typer.Context, hours: float = HOURS) -> None:
    """Self-maintenance report: what the system observed, did, learned, and advises."""
    from taskwarden.reports import loop_report as loop
    from taskwarden.reports.figures import gather
    from taskwarden.reports.schedule import stamp

    with _opened(ctx) as (config, store, folder):
        f = gather(store, config, time.time(), hours)
        path = loop.write(f, folder, f"loop-report-{stamp(f.period.end)}")
        advice = loop.advise(f)
    for i, a in enumerate(advice, 1):
        console.print(f"{i}. {a['text']}", markup=False, highlight=False)
    console.print(f"loop report: {path}")


@app.command()
def scorecard(ctx: typer.Context, hours: float = HOURS) -> None:
    """Success criteria with measured value, target and pass/fail (Markdown and JSON)."""
    from taskwarden.reports import scorecard as card
    from taskwarden.reports.figures import gather
    from taskwarden.reports.schedule import stamp

    with _opened(ctx) as (config, store, folder):
        f = gather(store, config, time.time(), hours)
        before = gather(store, config, period=f.period.previous(), hours=hours)
        before_or_none = None if before.empty else before
        path = card.write(f, config, folder, f"scorecard-{stamp(f.period.end)}", before_or_none)
        criteria = card.score(f, config, before_or_none)
    table = Table("level", "criterion", "target", "measured", "result", "before")
    for c in criteria:
        color = {"pass": "green", "fail": "red"}.get(c.status, "yellow")
        table.add_row(c.level, c.name, c.target, c.shown, f"[{color}]{c.status}[/]", c.before or "—")
    console.print(table)
    console.print(f"scorecard: {path}")
