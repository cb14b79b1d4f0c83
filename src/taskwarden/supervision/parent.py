"""How a child notices that its warden died, so a SIGKILLed warden leaves no orphans.

The warden puts its pid in ``TASKWARDEN_WARDEN_PID`` when it spawns a child.
:func:`watch_parent` (called by the ``server``, ``worker`` and ``monitor``
commands) starts a daemon thread that checks once per interval whether that
pid is still this process's parent; when it is not (the warden died and the
child was re-parented to init or a sub-reaper), the thread sends SIGTERM to its
own process. That reuses each component's ordinary graceful stop: a worker
finishes or gives back the task in hand and exits; the server shuts down.

Why not PR_SET_PDEATHSIG: it is Linux-only, and it fires when the *thread*
that forked dies. Comparing parent pids works on every POSIX system; on
Windows, where ``os.getppid`` does not change, psutil tells whether the
warden pid still runs. A component run by hand (no variable) is never watched.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import psutil

log = logging.getLogger("taskwarden.parent")
ENV = "TASKWARDEN_WARDEN_PID"


def warden_pid() -> int | None:
    try:
        return int(os.environ[ENV])
    except (KeyError, ValueError):
        return None


def parent_gone(pid: int) -> bool:
    if os.name == "posix":
        return os.getppid() != pid
    return not psutil.pid_exists(pid)


def watch_parent(interval_s: float = 0.5, force_after_s: float = 30.0) -> threading.Thread | None:
    """Stop this process gracefully once the warden that spawned it is gone.

    A second SIGTERM follows after ``force_after_s`` (the components' "second
    signal forces"), so even a task stuck in an action cannot keep an orphan alive.
    """
    pid = warden_pid()
    if pid is None:
        return None

    def watch() -> None:
        stop = threading.Event()
        while not stop.wait(interval_s):
            if parent_gone(pid):
                log.warning("warden pid %d is gone; stopping so no orphan is left running", pid)
                os.kill(os.getpid(), signal.SIGTERM)
                stop.wait(force_after_s)
                os.kill(os.getpid(), signal.SIGTERM)
                return

    thread = threading.Thread(target=watch, daemon=True, name="parent-watch")
    thread.start()
    return thread
