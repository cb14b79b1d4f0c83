"""The built-in actions and their names."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from taskwarden.actions import browser, files, http, shell
from taskwarden.actions.registry import ActionContext, ActionFunc
from taskwarden.errors import ActionError


def noop(params: dict[str, Any], ctx: ActionContext) -> Any:
    """Does nothing; measures the queue's own overhead."""
    return params.get("echo")


def smoke(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """The canary's task: proves a worker received, ran and reported it."""
    return {"worker": ctx.worker_id, "host": socket.gethostname(), "pid": os.getpid(),
            "task": ctx.task_id, "ran_at": time.time()}


def sleep(params: dict[str, Any], ctx: ActionContext) -> dict[str, float]:
    seconds = params.get("seconds", 1)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        raise ActionError(f"sleep: 'seconds' must be a number >= 0, got {seconds!r}",
                          retryable=False)
    time.sleep(seconds)
    return {"slept": seconds}


def fail(params: dict[str, Any], ctx: ActionContext) -> None:
    """Fails on purpose, for drills: ``retryable`` (default true) and ``message``."""
    raise ActionError(str(params.get("message", "deliberate failure")),
                      retryable=bool(params.get("retryable", True)))


ACTIONS: dict[str, ActionFunc] = {
    "noop": noop, "smoke": smoke, "sleep": sleep, "fail": fail,
    **files.ACTIONS, **http.ACTIONS, **shell.ACTIONS, **browser.ACTIONS,
}
