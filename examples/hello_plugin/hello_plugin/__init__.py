"""An example taskwarden action plugin.

taskwarden finds ``hello`` through the ``taskwarden.actions`` entry point
declared in this package's ``pyproject.toml``; nothing in taskwarden names it.
"""

from __future__ import annotations

from typing import Any

from taskwarden.actions import ActionContext
from taskwarden.errors import ActionError


def hello(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Greet ``name``; an empty or non-string name is a task error no retry can fix."""
    name = params.get("name", "world")
    if not isinstance(name, str) or not name:
        raise ActionError(f"hello: 'name' must be a non-empty string, got {name!r}",
                          retryable=False)
    return {"greeting": f"hello, {name}", "task": ctx.task_id, "attempt": ctx.attempt}
