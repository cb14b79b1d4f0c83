"""``taskwarden baseline``: learn thresholds from the store's samples, now.

Reads the store directly (like ``report``), so it works while the server is
down. The monitor picks the new ``baseline.json`` up on its next sample.
"""

from __future__ import annotations

import time

import typer
from rich.table import Table

from taskwarden.cli.app import EXIT_USAGE, app, console, fail, load_config


@app.command()
def baseline(ctx: typer.Context,
             hours: float = typer.Option(6.0, "--hours", min=0.001,
                                         help="Learn from the last HOURS (time-scaled); at least 6 h"
                                              " of normal samples are needed.")) -> None:
    """Learn what normal is: per-metric statistics and thresholds (baseline.json + baseline.md)."""
    from taskwarden.monitor import baseline as learner
    from taskwarden.store import open_store

    config = load_config(ctx)
    store = open_store(config)
    try:
        def record(kind: str, subject: str, detail: dict) -> None:
            store.record_event(kind, subject, detail, time.time())

        doc = learner.learn_and_write(store, config, time.time(), hours, record)
    except learner.NotEnoughData as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    finally:
        store.close()
    t = doc["thresholds"]
    table = Table("threshold", "learned", "default (floor)", title="baseline learned")
    d = learner.Thresholds.from_config(config.monitor)
    table.add_row("success rate below", f"{t['success_rate_min']:.1%}", f"{d.success_rate_min:.0%}")
    table.add_row("p95 latency above", f"{t['p95_latency_max_s']:.3f}s", f"{d.p95_latency_max_s:g}s")
    table.add_row("queue warning at", str(t["queue_warning"]), str(d.queue_warning))
    table.add_row("queue critical at", str(t["queue_critical"]), str(d.queue_critical))
    console.print(table)
    json_path, md_path = learner.paths(config)
    console.print(f"from {doc['samples']['kept']} samples; wrote {json_path} and {md_path}")
