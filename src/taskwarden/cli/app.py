"""The Typer app and the options every command shares."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from taskwarden import config as config_module
from taskwarden.config import Config
from taskwarden.errors import ConfigError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="taskwarden: a self-healing job queue for unattended RPA work.")
console = Console(soft_wrap=True)  # messages with paths must not be cut into lines
err = Console(stderr=True, soft_wrap=True)

#: Exit codes, named so scripts and tests can rely on them.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


@app.callback()
def main(ctx: typer.Context,
         data_dir: Path | None = typer.Option(None, "--data-dir", envvar="TASKWARDEN_DATA_DIR",
                                              help="Where the store, logs and outputs live."),
         config_file: Path | None = typer.Option(None, "--config", envvar="TASKWARDEN_CONFIG",
                                                 help="taskwarden.toml to read.")) -> None:
    ctx.obj = {"data_dir": data_dir, "config_file": config_file}


def load_config(ctx: typer.Context, **overrides: Any) -> Config:
    """The configuration for this command, or a clear exit 2 naming the bad key."""
    obj = ctx.find_root().obj or {}
    if obj.get("data_dir") is not None:
        overrides.setdefault("data_dir", str(obj["data_dir"]))
    try:
        return config_module.load(obj.get("config_file"), overrides)
    except ConfigError as exc:
        err.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    err.print(f"[red]{message}[/]")
    sys.stderr.flush()
    return typer.Exit(code)
