"""Commands that run one component in the foreground: server, worker."""

from __future__ import annotations

import typer

from taskwarden import logs
from taskwarden.cli.app import app, load_config


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
    raise typer.Exit(Worker(config, slot, server_url, token).run())
