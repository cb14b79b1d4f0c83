"""Commands for the store's safety: backup and restore."""

from __future__ import annotations

from pathlib import Path

import typer

from taskwarden.cli.app import EXIT_FAILED, app, console, fail, load_config
from taskwarden.errors import TaskwardenError


@app.command("backup")
def backup_cmd(ctx: typer.Context,
               to: Path | None = typer.Option(None, "--to", help="Where to write the copy.")) -> None:
    """Consistent online backup of the store (the stack may keep running)."""
    from taskwarden import backup

    config = load_config(ctx)
    try:
        path = backup.backup(config, to)
    except TaskwardenError as exc:
        raise fail(f"backup failed: {exc}", EXIT_FAILED) from exc
    console.print(f"backup written and verified: {path}")


@app.command("restore")
def restore_cmd(ctx: typer.Context, file: Path) -> None:
    """Replace the store with FILE after verifying it; the current store is kept in backups/."""
    from taskwarden import backup
    from taskwarden.status import collect
    from taskwarden.supervision import control

    config = load_config(ctx)
    running = not control.lock_free(config) or collect(config)["server"]["up"]
    try:
        result = backup.restore(config, file, running)
    except TaskwardenError as exc:
        raise fail(f"restore refused: {exc}", EXIT_FAILED) from exc
    kept = f"; the previous store is kept as {result.previous}" if result.previous else ""
    console.print(f"restored {result.tasks} tasks from {file} into {result.restored}{kept}")
