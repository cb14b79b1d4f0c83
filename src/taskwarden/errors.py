"""The one exception tree of taskwarden.

    TaskwardenError
    ├── ConfigError        a setting is wrong: names the key, the value and what is allowed
    ├── StoreError         the store could not do what was asked
    │   ├── NotFound       no task / worker with that id
    │   └── Conflict       the operation does not fit the current state (cancel a running task)
    ├── ServerUnreachable  a client could not talk to the queue server
    └── ActionError        an action refused or failed; carries a retryable flag

Lower-level errors (sqlite3, psycopg, httpx, OSError) are converted at the
boundary with ``raise ... from`` so callers only ever catch these.
"""

from __future__ import annotations


class TaskwardenError(Exception):
    """Root of every error taskwarden raises on purpose."""


class ConfigError(TaskwardenError):
    """A configuration value is not allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"config {key}={value!r} is not allowed: {allowed}")


class StoreError(TaskwardenError):
    """The store could not carry out an operation."""


class NotFound(StoreError):
    """No record with that id."""


class Conflict(StoreError):
    """The record exists but is not in a state that allows the operation."""


class ServerUnreachable(TaskwardenError):
    """The queue server did not answer."""


class ActionError(TaskwardenError):
    """An action failed in a way it understood.

    ``retryable=False`` tells the worker that running it again cannot help
    (bad params, a refused path, an unknown action).
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
