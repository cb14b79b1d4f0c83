"""Wall-clock time, in one place so the server and metrics can be given another clock in tests.

Durations under the time scale (``TASKWARDEN_TIME_SCALE``) are
:meth:`taskwarden.config.Config.seconds`; this module only tells the time.
"""

from __future__ import annotations

import time


def now() -> float:
    """Wall-clock seconds since the epoch; what the store records."""
    return time.time()
