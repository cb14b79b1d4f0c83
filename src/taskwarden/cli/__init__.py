"""The ``taskwarden`` command. Each module here only parses and delegates."""

from __future__ import annotations

from taskwarden.cli import (  # noqa: F401  (they register their commands)
    backup,
    baseline,
    components,
    drills,
    monitor,
    reports,
    stack,
    tasks,
)
from taskwarden.cli.app import app

__all__ = ["app"]
