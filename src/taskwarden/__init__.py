"""taskwarden: a self-healing job queue for unattended RPA work."""

from __future__ import annotations

__version__ = "0.1.0"
