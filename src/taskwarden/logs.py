"""Logging: JSON lines under ``logs/`` for machines, short lines on stderr for people."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path


class JsonLines(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {"at": round(record.created, 3), "level": record.levelname.lower(),
                 "component": self.component, "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup(component: str, data_dir: Path, level: int = logging.INFO) -> None:
    """Send this process's logs to ``<data_dir>/logs/<component>.log`` and stderr."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level)
    to_file = logging.FileHandler(logs / f"{component}.log")
    to_file.setFormatter(JsonLines(component))
    to_stderr = logging.StreamHandler()
    to_stderr.setFormatter(logging.Formatter(f"%(asctime)s {component} %(levelname)s %(message)s"))
    to_stderr.formatter.converter = time.gmtime  # type: ignore[union-attr]
    root.addHandler(to_file)
    root.addHandler(to_stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
