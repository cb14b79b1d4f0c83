"""Finding an action by name: built-ins, entry points, configured modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from taskwarden.errors import ActionError


@dataclass(frozen=True)
class ActionContext:
    """What an action may know about the task it runs for."""

    task_id: int
    worker_id: str
    attempt: int
    workspace: Path
    artifacts_dir: Path
    settings: dict[str, Any] = field(default_factory=dict)


ActionFunc = Callable[[dict[str, Any], ActionContext], Any]


class Registry:
    """Name → action. Built once per worker process."""

    def __init__(self, modules: tuple[str, ...] = ()) -> None:
        self._actions: dict[str, ActionFunc] = {}
        from taskwarden.actions.builtin import ACTIONS

        self._actions.update(ACTIONS)
        for ep in entry_points(group="taskwarden.actions"):
            self._actions[ep.name] = ep.load()
        for name in modules:
            self._actions.update(importlib.import_module(name).ACTIONS)

    def names(self) -> list[str]:
        return sorted(self._actions)

    def get(self, name: str) -> ActionFunc:
        try:
            return self._actions[name]
        except KeyError:
            raise ActionError(f"unknown action '{name}'", retryable=False) from None


_default: Registry | None = None


def resolve(name: str, modules: tuple[str, ...] = ()) -> ActionFunc:
    """The action called ``name`` from a registry built on first use."""
    global _default
    if _default is None:
        _default = Registry(modules)
    return _default.get(name)
