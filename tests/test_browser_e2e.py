"""browser.run through the real server and worker: artifacts served, a killed browser healed."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import psutil
import pytest
from stackutil import Stack, wait_for
from testsite import HtmlSite, serving

SLOW = b"""<!doctype html><title>Slow</title><div id="root">loading</div>
<script>setTimeout(() => {
  const el = document.createElement('p'); el.id = 'done'; el.textContent = 'ready';
  document.body.appendChild(el);
}, 3000);</script>"""


class SlowSite(HtmlSite):
    def do_GET(self) -> None:
        self.send_html(200, SLOW)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serving(SlowSite) as url:
        yield url


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
