"""``taskwarden monitor``: run the monitor in the foreground."""

from __future__ import annotations

import typer

from taskwarden import logs
from taskwarden.cli.app import app, load_config
from taskwarden.supervision.parent import watch_parent


@app.command()
def monitor(ctx: typer.Context) -> None:
    """Sample the queue, run canaries and raise alerts, until SIGTERM."""
    from taskwarden.monitor.loop import Monitor
    from taskwarden.store import open_store

    config = load_config(ctx)
    logs.setup("monitor", config.data_dir)
    watch_parent()
    store = open_store(config)
    try:
        code = Monitor(config, store).run()
    finally:
        store.close()
    raise typer.Exit(code)
