"""The states of a supervised child and the groups the warden asks about.

    stopped ──▶ starting ──▶ running
       ▲           │  │         │ dies / hung
       │           │  └─ hung ──┼──▶ stopping ──▶ backoff (wanted) | stopped (not wanted)
       │           └─ dies ─────┴──▶ backoff ──▶ starting (when the delay is over)
       └── backoff, when the child is no longer wanted

A child moves at most one step per tick, and every step is an event. Depends
on nothing, so the state machine can be read before anyone opens the loop.
"""

from __future__ import annotations

STOPPED = "stopped"    # not running and not about to be: before start, after down
STARTING = "starting"  # spawned; not yet proven alive (health answered, first heartbeat)
RUNNING = "running"    # proven alive
BACKOFF = "backoff"    # died; waiting for its restart delay to pass
STOPPING = "stopping"  # asked to stop (down, hung, stray); KILL follows after the grace period

ALL = (STOPPED, STARTING, RUNNING, BACKOFF, STOPPING)
#: A process exists for the child in these states.
HAS_PROCESS = (STARTING, RUNNING, STOPPING)
#: The child counts toward "up" in these states.
UP = (RUNNING,)
