"""Task states and the groups callers ask about.

    queued ─▶ running ─▶ succeeded
      ▲          │
      └─ retry ──┤ (retryable failure with attempts left, expired lease)
                 ├─▶ failed    (final: not retryable, e.g. unknown action)
                 └─▶ dead      (final: attempts exhausted)
    queued ─▶ canceled
"""

from __future__ import annotations

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
DEAD = "dead"
CANCELED = "canceled"

ALL = (QUEUED, RUNNING, SUCCEEDED, FAILED, DEAD, CANCELED)
FINISHED = (SUCCEEDED, FAILED, DEAD, CANCELED)
#: The states that count in the success rate: succeeded / (succeeded + failed + dead).
JUDGED = (SUCCEEDED, FAILED, DEAD)
