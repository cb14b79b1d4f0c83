"""Drills: break the running stack on purpose, watch it heal, judge the alerts it raised.

    crash          SIGKILL a busy worker 3x: each replaced, its task re-run
    overload       100 tasks at once: all processed, queue alerts fire and resolve
    invalid        20 tasks of an unknown action: success-rate alert fires, then resolves
    hang           SIGSTOP a worker: replaced once its heartbeat is stale
    server-crash   SIGKILL the server: back, no acknowledged task lost
    restart-limit  a worker that cannot start: alert file, keeps retrying, recovers

One module per drill (a ``run(drill)`` function); :mod:`runner` wraps each
with preflight, events, settling and the alert accounting; :mod:`verdict`
holds the result and writes the reports.
"""

from __future__ import annotations

from taskwarden.drills import crash, hang, invalid, overload, restart_limit, server_crash
from taskwarden.drills.runner import DrillFunc

#: In the order ``drill all`` runs them: ``invalid`` first, while the success-rate
#: windows hold the least good traffic, ``restart-limit`` last, as it takes longest.
DRILLS: dict[str, DrillFunc] = {
    "invalid": invalid.run,
    "overload": overload.run,
    "crash": crash.run,
    "hang": hang.run,
    "server-crash": server_crash.run,
    "restart-limit": restart_limit.run,
}
