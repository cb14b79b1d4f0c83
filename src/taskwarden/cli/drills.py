"""``taskwarden drill NAME``: break the running stack on purpose and judge how it heals."""

from __future__ import annotations
