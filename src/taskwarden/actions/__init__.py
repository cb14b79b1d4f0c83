"""Actions: the automation steps a worker runs.

An action is a callable ``(params: dict, ctx: ActionContext) -> JSON-able result``.
It raises :class:`taskwarden.errors.ActionError` for failures it understands
(``retryable=False`` when running again cannot help); any other exception is
recorded with its class name and message and retried.

Built-ins live in this package; custom actions register through the
``taskwarden.actions`` entry-point group or a module named in the config's
``actions.modules`` (a module exposing ``ACTIONS: dict[str, callable]``).
"""

from __future__ import annotations

from taskwarden.actions.registry import ActionContext, ActionFunc, Registry, resolve

__all__ = ["ActionContext", "ActionFunc", "Registry", "resolve"]
