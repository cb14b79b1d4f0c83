"""Shared fixtures: a real stack (server, workers) on a temporary data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stackutil import Stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """An empty stack; the test starts what it needs."""
    s = Stack(tmp_path)
    yield s
    s.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Stack]:
    """A server and one worker, started."""
    s = Stack(tmp_path)
    s.start_server()
    s.start_worker(0)
    yield s
    s.close()
