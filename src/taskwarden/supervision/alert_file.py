"""``outputs/alerts/<component>_alert.json``: the restart alert as a file.

A file is what the user's existing tooling already watches, and it survives
the server being down, which is exactly when restarts pile up. Written
atomically (temp file + rename) so a reader never sees half a document.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class AlertFile:
    def __init__(self, alerts_dir: Path, component: str) -> None:
        self.path = alerts_dir / f"{component}_alert.json"
        self.component = component

    def fire(self, reason: str, facts: dict[str, Any], at: float) -> dict[str, Any]:
        doc = {"component": self.component, "status": "firing", "reason": reason,
               "fired_at": at, "resolved_at": None, **facts}
        write_json(self.path, doc)
        return doc

    def resolve(self, facts: dict[str, Any], at: float) -> dict[str, Any] | None:
        """Mark the firing document resolved; None when there was none to resolve."""
        doc = self.read()
        if not doc or doc.get("status") != "firing":
            return None
        doc.update(facts, status="resolved", resolved_at=at)
        write_json(self.path, doc)
        return doc

    def read(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Replace ``path`` atomically: readers see the old document or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    os.replace(tmp, path)
