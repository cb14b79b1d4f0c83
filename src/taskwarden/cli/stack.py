"""Commands that run the whole stack: up, down, ensure, warden. They parse and delegate
to :mod:`taskwarden.warden` and :mod:`taskwarden.supervision.control`."""

from __future__ import annotations

from pathlib import Path

import typer

from taskwarden import logs
from taskwarden.cli.app import EXIT_FAILED, EXIT_OK, app, console, fail, load_config
from taskwarden.config import Config
from taskwarden.errors import TaskwardenError
from taskwarden.supervision import control


def _config_file(ctx: typer.Context) -> Path | None:
    return (ctx.find_root().obj or {}).get("config_file")


def _already_running(config: Config) -> typer.Exit:
    console.print(f"a warden already runs ({control.describe_holder(config)}) for {config.data_dir}")
    return typer.Exit(EXIT_OK)


ROLE_HELP = "'all' (server, workers, monitor) or 'worker' (a worker host for --server)."


def _stack_config(ctx: typer.Context, workers: int | None, role: str | None = None,
                  server: str | None = None, token: str | None = None) -> Config:
    return load_config(ctx, **{"warden.workers": workers, "warden.role": role, "server.url": server,
                               "server.token": token})


def _run_foreground(ctx: typer.Context, workers: int | None, role: str | None = None,
                    server: str | None = None, token: str | None = None) -> None:
    from taskwarden.warden import Warden

    config = _stack_config(ctx, workers, role, server, token)
    if not control.lock_free(config):
        raise _already_running(config)
    logs.setup("warden", config.data_dir)
    console.print(f"starting taskwarden: dashboard at {config.server_url}/ (Ctrl-C stops it cleanly)")
    raise typer.Exit(Warden(config, config_file=_config_file(ctx)).run())


def _start_detached(ctx: typer.Context, workers: int | None, role: str | None = None,
                    server: str | None = None, token: str | None = None) -> None:
    config = _stack_config(ctx, workers, role, server, token)
    if not control.lock_free(config):
        raise _already_running(config)
    try:
        started = control.start_detached(config, _config_file(ctx))
    except TaskwardenError as exc:
        raise fail(str(exc)) from exc
    if started is None:  # lost the race to another up/ensure: that one is the warden
        raise _already_running(config)
    pid, state = started
    pids = ", ".join(f"{c['name']} {c['pid']}" for c in state["children"] if c["pid"])
    console.print(f"taskwarden is up: warden {pid}; {pids}")
    console.print(f"dashboard: {config.server_url}/")


@app.command()
def up(ctx: typer.Context,
       workers: int | None = typer.Option(None, min=0, help="How many workers (default: config)."),
       detach: bool = typer.Option(False, help="Run in the background; return once it is up."),
       role: str | None = typer.Option(None, help=ROLE_HELP),
       server: str | None = typer.Option(None, help="Queue server URL (worker hosts)."),
       token: str | None = typer.Option(None, help="Bearer token for the worker endpoints.")) -> None:
    """Start the warden, which starts and heals the server, the workers and the monitor."""
    if detach:
        _start_detached(ctx, workers, role, server, token)
    else:
        _run_foreground(ctx, workers, role, server, token)


@app.command()
def ensure(ctx: typer.Context) -> None:
    """Start a detached warden if none runs (for cron or a systemd timer); never a duplicate."""
    _start_detached(ctx, None)


@app.command()
def warden(ctx: typer.Context,
           workers: int | None = typer.Option(None, min=0, help="How many workers.")) -> None:
    """Run the warden in the foreground."""
    _run_foreground(ctx, workers)


@app.command()
def down(ctx: typer.Context,
         timeout: float = typer.Option(60.0, min=0.1, help="Seconds before a 2nd TERM forces it.")) -> None:
    """Stop everything cleanly: workers finish or give back their tasks, then the server stops."""
    config = load_config(ctx)
    try:
        stopped = control.stop(config, timeout, console.print)
    except TaskwardenError as exc:
        raise fail(str(exc)) from exc
    if not stopped:
        raise fail("the warden did not stop", EXIT_FAILED)
    console.print("stopped")
