"""browser.run through the real server and worker: artifacts served, a killed browser healed."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import psutil
import pytest
from stackutil import Stack, wait_for

SLOW = b"""<!doctype html><title>Slow</title><div id="root">loading</div>
<script>setTimeout(() => {
  const el = document.createElement('p'); el.id = 'done'; el.textContent = 'ready';
  document.body.appendChild(el);
}, 3000);</script>"""


class SlowSite(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(SLOW)))
        self.end_headers()
        self.wfile.write(SLOW)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_failed_step_leaves_a_screenshot_served_by_the_api(running: Stack, site: str) -> None:
    steps = [{"goto": site + "/slow"}, {"click": "#missing", "timeout": 1}]
    task = running.client.enqueue("browser.run", {"steps": steps}, max_attempts=1, timeout_s=60)
    done = running.wait_task(task["id"], ("dead", "failed"), timeout=60)
    assert "#missing" in done["error_message"]
    assert done["artifacts"] == ["attempt-1/failure.png"]
    png = httpx.get(f"{running.url}/api/tasks/{task['id']}/artifacts/attempt-1/failure.png", timeout=10)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    escape = httpx.get(f"{running.url}/api/tasks/{task['id']}/artifacts/..%2F..%2Ftaskwarden.db",
                       timeout=10)
    assert escape.status_code == 404


def chromium_roots(worker_pid: int) -> list[psutil.Process]:
    """The browser processes under this worker whose parent is not itself a browser process."""
    tree = psutil.Process(worker_pid).children(recursive=True)
    browsers = [p for p in tree if "chrom" in p.name().lower()]
    pids = {p.pid for p in browsers}
    return [p for p in browsers if p.ppid() not in pids]


def test_browser_killed_mid_task_is_relaunched_and_the_task_retried(running: Stack, site: str) -> None:
    worker = running.procs[-1]
    steps = [{"goto": site + "/slow"}, {"wait_for": "#done", "timeout": 10},
             {"extract": "#done", "as": "state"}]
    task = running.client.enqueue("browser.run", {"steps": steps}, max_attempts=3, timeout_s=60)
    running.wait_task(task["id"], ("running",), timeout=30)
    roots = wait_for(lambda: chromium_roots(worker.pid), timeout=30, message="Chromium running")
    for proc in roots:
        proc.send_signal(signal.SIGKILL)
    done = running.wait_task(task["id"], ("succeeded",), timeout=90)
    assert done["attempts"] == 2
    assert done["result"]["extracted"] == {"state": "ready"}
