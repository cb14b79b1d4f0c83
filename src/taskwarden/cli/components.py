"""Commands that run one component in the foreground: server, worker."""

from __future__ import annotations

import typer

from taskwarden import logs
from taskwarden.cli.app import app, fail, load_config
from taskwarden.supervision.parent import watch_parent

#: Drill hook: while ``<data_dir>/run/fault-worker-start`` exists, every worker
#: crashes at start-up (exit 70), so the warden's backoff and alert can be watched.
FAULT_WORKER_START = "fault-worker-start"
EXIT_CRASH_DRILL = 70


@app.command()
def server(ctx: typer.Context,
           host: str | None = typer.Option(None, help="Address to listen on."),
           port: int | None = typer.Option(None, help="Port to listen on.")) -> None:
    """Run the HTTP queue server in the foreground."""
    import uvicorn

    from taskwarden.server.app import create_app
    from taskwarden.store import open_store

    config = load_config(ctx, **{"server.host": host, "server.port": port})
    logs.setup("server", config.data_dir)
    watch_parent()
    app_ = create_app(config, open_store(config))
    uvicorn.run(app_, host=config.server.host, port=config.server.port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=5)


@app.command()
def worker(ctx: typer.Context,
           slot: int = typer.Option(0, min=0, help="Worker slot; each slot holds its own lock."),
           server_url: str | None = typer.Option(None, "--server", help="Queue server URL."),
           token: str | None = typer.Option(None, help="Bearer token for worker endpoints.")) -> None:
    """Run one worker in the foreground."""
    from taskwarden.worker import Worker

    config = load_config(ctx)
    logs.setup(f"worker-{slot}", config.data_dir)
    if (config.data_dir / "run" / FAULT_WORKER_START).exists():
        raise fail(f"drill: {FAULT_WORKER_START} is set in run/; crashing at start-up", EXIT_CRASH_DRILL)
    watch_parent()
    raise typer.Exit(Worker(config, slot, server_url, token).run())
