"""The ``taskwarden`` command. Each module here only parses and delegates."""

from __future__ import annotations

from taskwarden.cli import components, monitor, reports, stack, tasks  # noqa: F401  (they register their commands)
from taskwarden.cli.app import app

__all__ = ["app"]
