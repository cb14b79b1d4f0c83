"""Helpers for the monitor's tests on a running stack: a scaled environment, a webhook receiver.

Every stack here runs under ``TASKWARDEN_TIME_SCALE=10``: the monitor's
configured 5 s sample is 0.5 s real, its 10 s hold 1 s. The stack's fast
settings are multiplied by the same factor so workers keep their real pace.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stackutil import FAST_ENV, Stack, wait_for

SCALE = 10.0
SAMPLE_REAL_S = 0.5
SCALED_ENV = {
    **{key: str(float(value) * SCALE) for key, value in FAST_ENV.items()},
    "TASKWARDEN_TIME_SCALE": str(SCALE),
    "TASKWARDEN_MONITOR_SAMPLE_S": str(SAMPLE_REAL_S * SCALE),
    "TASKWARDEN_MONITOR_HOLD_S": str(1.0 * SCALE),
}


def samples_taken(stack: Stack, kind: str = "sample") -> list[float]:
    """When each stored sample of that kind was taken, oldest first (read from disk)."""
    with stack.db() as db:
        return [row[0] for row in db.execute("SELECT at FROM samples WHERE kind = ? ORDER BY at", (kind,))]


def start_monitor(stack: Stack, **env: str) -> Any:
    """``python -m taskwarden monitor`` as a real child; returns once it has stored a sample."""
    proc = stack.spawn("monitor", **env)
    wait_for(lambda: samples_taken(stack), timeout=20, message="the monitor's first sample")
    return proc


def events(stack: Stack, kind: str, subject: str | None = None) -> list[dict[str, Any]]:
    return [e for e in stack.client.events(limit=10_000, kind=kind)
            if subject is None or e["subject"] == subject]


def wait_samples(stack: Stack, n: int) -> None:
    """Let ``n`` more samples happen: a deadline-bound way to say "and nothing more changed"."""
    target = len(samples_taken(stack)) + n
    wait_for(lambda: len(samples_taken(stack)) >= target, timeout=n * SAMPLE_REAL_S * 4 + 5,
             message=f"{n} more samples")


class Receiver:
    """A local webhook endpoint that keeps every JSON body it is sent, by path."""

    def __init__(self) -> None:
        received: list[tuple[str, dict[str, Any]]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.received if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@contextmanager
def hanging_server() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        sock.close()


def closed_port_url() -> str:
    """A URL where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
