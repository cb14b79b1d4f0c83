"""The live page and the dashboard in real headless Chromium (Debian's, driven by Playwright).

Checks what a person would see: the page loads with no console error and no
request leaving the machine, the charts are drawn (plotly's SVG), a task named
``<script>alert(1)</script>`` shows as text and fires no dialog, and an event
posted to the server appears on the open page through the SSE stream, without a
reload. Screenshots are kept as test artifacts under ``var/test-artifacts/``
(or ``$TASKWARDEN_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from stackutil import Stack

XSS = "<script>alert(1)</script>"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("TASKWARDEN_TEST_ARTIFACTS",
                                Path(__file__).resolve().parent.parent / "var" / "test-artifacts"))

DRAWN_LINES = ("[...document.querySelectorAll('.js-plotly-plot .scatterlayer path.js-line')]"
               ".filter(p => (p.getAttribute('d') || '').length > 10).length")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watched:
    """A page with every console error, dialog and outside request it produced."""

    def __init__(self, browser: Browser, allowed_prefix: str) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1300, "height": 1000})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: r.url.startswith((allowed_prefix, "data:"))
                     or self.outside.append(r.url))

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        return path

    def drawn_lines(self) -> int:
        """Chart lines plotly drew with real path data (an empty chart has none)."""
        return self.page.evaluate(DRAWN_LINES)


def test_live_page_updates_from_the_event_stream_and_shows_task_data_as_text(
        running: Stack, browser: Browser) -> None:
    c = running.client
    bad = c.enqueue(XSS, {"note": "<img src=x onerror=alert(2)>"})
    running.wait_task(bad["id"], ("failed",))
    for _ in range(3):
        running.wait_task(c.enqueue("noop")["id"])

    w = Watched(browser, running.url)
    w.page.goto(running.url + "/")
    w.page.wait_for_function(f"document.getElementById('results').textContent.includes({XSS!r})")
    w.page.wait_for_function("document.getElementById('stream').textContent === 'live'")
    assert w.page.locator("#results").get_by_text(XSS, exact=True).count() == 1  # the action cell, as text
    assert w.page.locator("#results script").count() == 0
    assert w.page.locator("#components").inner_text().count("worker 0") == 1
    assert w.page.locator("#rate-1h").inner_text() == "75.0 %"

    c.record_event("alert_fired", "alert:queue_warning",
                   {"summary": "<b>7 ready</b><script>alert(3)</script>"})
    w.page.wait_for_function("document.getElementById('events').textContent.includes('alert_fired')")
    assert "<script>alert(3)</script>" in w.page.locator("#events").inner_text()
    # Three /api/stats polls extend each live chart without a reload: lines drawn, not just axes.
    w.page.wait_for_function("document.getElementById('c-queue').data[0].x.length >= 3", timeout=15_000)
    w.page.wait_for_function(f"{DRAWN_LINES} >= 3")
    w.shot("live-page.png")
    assert w.errors == [] and w.dialogs == [] and w.outside == []


def test_dashboard_opens_from_disk_with_charts_and_escaped_task_data(
        running: Stack, browser: Browser) -> None:
    c = running.client
    running.wait_task(c.enqueue(XSS)["id"], ("failed",))
    for _ in range(4):
        running.wait_task(c.enqueue("noop")["id"])
    done = running.cli("dashboard")
    assert done.returncode == 0, done.stderr
    path = running.data_dir / "outputs" / "dashboard.html"

    w = Watched(browser, "file://")
    w.page.goto(path.as_uri())
    w.page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 6")
    assert w.page.locator("#t-failing").get_by_text(XSS, exact=True).count() == 1
    assert w.drawn_lines() >= 4  # success rate and p50/p95/p99; the rest say "no data yet"
    assert w.page.get_by_text("no data yet").count() >= 1
    assert w.page.locator("#h-rate").inner_text() == "80.0 %"
    w.shot("dashboard.png")
    assert w.errors == [] and w.dialogs == [] and w.outside == []
