"""browser.run on the system Chromium against a real local site.

These tests never skip: CI installs Chromium, and on a machine without it they
fail with the action's own "no Chromium found" message, which is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from testsite import HtmlSite, serving

from taskwarden.actions import ActionContext, browser
from taskwarden.actions.browser import browser_run
from taskwarden.errors import ActionError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

LOGIN = b"""<!doctype html><title>Login</title>
<form method="post" action="/login">
  <input id="user" name="user"> <input id="password" name="password" type="password">
  <button id="go" type="submit">Sign in</button>
</form>%s"""

ACCOUNT = b"""<!doctype html><title>Account</title>
<h1>Welcome, ann</h1>
<span id="balance" data-currency="EUR">42.50</span>
<ul><li class="item">alpha</li><li class="item">beta</li></ul>
<form id="f"><input id="note"><select id="country">
  <option value="de">Germany</option><option value="fr">France</option></select></form>
<p id="saved"></p>
<script>
document.getElementById('f').addEventListener('submit', e => {
  e.preventDefault();
  document.getElementById('saved').textContent =
    'Saved: ' + note.value + ' / ' + country.value;
});
</script>"""

LATE = b"""<!doctype html><title>Late</title><div id="root">loading</div>
<script>setTimeout(() => {
  const el = document.createElement('p'); el.id = 'late'; el.textContent = 'ready now';
  document.body.appendChild(el);
}, 1000);</script>"""


class Site(HtmlSite):
    def do_GET(self) -> None:
        if self.path == "/login":
            self.send_html(200, LOGIN % b"")
        elif self.path == "/account":
            if "session=ok" in (self.headers.get("Cookie") or ""):
                self.send_html(200, ACCOUNT)
            else:
                self.send_html(303, b"", {"Location": "/login"})
        elif self.path == "/late":
            self.send_html(200, LATE)
        elif self.path == "/broken":
            self.send_html(500, b"<h1>Internal Server Error</h1>")
        else:
            self.send_html(404, b"<h1>Not found</h1>")

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if form.get("user") == ["ann"] and form.get("password") == ["secret"]:
            self.send_html(303, b"", {"Location": "/account", "Set-Cookie": "session=ok; Path=/"})
        else:
            self.send_html(200, LOGIN % b'<p class="error">Wrong password</p>')


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serving(Site) as url:
        yield url
    browser.close_browser()


@pytest.fixture
def ctx(tmp_path: Path) -> ActionContext:
    return ActionContext(task_id=9, worker_id="w1", attempt=1, workspace=tmp_path / "ws",
                         artifacts_dir=tmp_path / "artifacts", settings={})


def login_steps(site: str, password: str = "secret") -> list[dict[str, Any]]:
    return [{"goto": f"{site}/login"}, {"fill": "#user", "value": "ann"},
            {"fill": "#password", "value": password}, {"click": "#go"}]


def test_log_in_fill_extract_and_screenshot(site: str, ctx: ActionContext) -> None:
    steps = [*login_steps(site),
             {"assert_text": "Welcome, ann"},
             {"extract": "#balance", "as": "balance"},
             {"extract": "#balance", "as": "currency", "attr": "data-currency"},
             {"extract": ".item", "as": "items", "all": True},
             {"fill": "#note", "value": "hello"},
             {"select": "#country", "value": "fr"},
             {"press": "#note", "key": "Enter"},
             {"wait_for_text": "Saved: hello / fr"},
             {"screenshot": "account page"}]
    out = browser_run({"steps": steps}, ctx)
    assert out["extracted"] == {"balance": "42.50", "currency": "EUR",
                                "items": ["alpha", "beta"]}
    assert out["url"] == f"{site}/account"
    assert out["artifacts"] == ["account_page.png"]
    assert (ctx.artifacts_dir / "account_page.png").read_bytes().startswith(PNG_SIGNATURE)


def test_missing_selector_fails_clearly_with_failure_screenshot(
        site: str, ctx: ActionContext) -> None:
    steps = [{"goto": f"{site}/login"}, {"click": "#does-not-exist", "timeout": 0.5}]
    with pytest.raises(ActionError) as err:
        browser_run({"steps": steps}, ctx)
    message = str(err.value)
    assert f"step 1 (click '#does-not-exist') failed at {site}/login" in message
    assert "Timeout 500ms exceeded" in message and "failure.png" in message
    assert err.value.retryable is True
    assert (ctx.artifacts_dir / "failure.png").read_bytes().startswith(PNG_SIGNATURE)


def test_wrong_password_fails_the_text_assertion(site: str, ctx: ActionContext) -> None:
    steps = [*login_steps(site, password="guess"), {"assert_text": "Welcome", "timeout": 0.5}]
    with pytest.raises(ActionError, match=r"step 4 \(assert_text 'Welcome'\) failed at .*/login"):
        browser_run({"steps": steps}, ctx)
    assert (ctx.artifacts_dir / "failure.png").exists()


def test_waits_for_an_element_that_appears_later(site: str, ctx: ActionContext) -> None:
    steps = [{"goto": f"{site}/late"}, {"wait_for": "#late"}, {"extract": "#late", "as": "t"}]
    assert browser_run({"steps": steps, "timeout": 5}, ctx)["extracted"] == {"t": "ready now"}
    impatient = [steps[0], {"wait_for": "#late", "timeout": 0.3}]
    with pytest.raises(ActionError, match=r"step 1 \(wait_for '#late'\)"):
        browser_run({"steps": impatient}, ctx)


@pytest.mark.parametrize(("path", "status", "retryable"), [
    ("/broken", 500, True), ("/nowhere", 404, False)])
def test_error_pages_fail_the_goto(site: str, ctx: ActionContext, path: str, status: int,
                                   retryable: bool) -> None:
    with pytest.raises(ActionError, match=f"step 0 \\(goto .*answered {status}") as err:
        browser_run({"steps": [{"goto": f"{site}{path}"}]}, ctx)
    assert err.value.retryable is retryable


def test_one_browser_is_reused_and_contexts_are_fresh(site: str, ctx: ActionContext) -> None:
    browser_run({"steps": login_steps(site)}, ctx)
    first = browser._browser
    # A new task does not inherit the previous task's session cookie.
    out = browser_run({"steps": [{"goto": f"{site}/account"}]}, ctx)
    assert out["url"] == f"{site}/login"
    assert browser._browser is first


def test_a_dead_browser_is_relaunched(site: str, ctx: ActionContext) -> None:
    browser_run({"steps": [{"goto": f"{site}/login"}]}, ctx)
    browser._browser.close()
    out = browser_run({"steps": [{"goto": f"{site}/late"}]}, ctx)
    assert out["url"] == f"{site}/late" and browser._browser.is_connected()


@pytest.mark.parametrize("steps", [
    None, [], [{"goto": "x", "click": "y"}], [{"fill": "#a"}], [{"click": 3}],
    [{"screenshot": "s", "bogus": 1}], ["goto"], [{"goto": "about:blank", "timeout": 0}],
])
def test_malformed_steps_are_refused_before_launching(ctx: ActionContext, steps: Any) -> None:
    with pytest.raises(ActionError, match=r"browser\.run:") as err:
        browser_run({"steps": steps}, ctx)
    assert err.value.retryable is False


def test_a_bad_chromium_override_names_the_fix(
        ctx: ActionContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWARDEN_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(ActionError, match="no Chromium found: install Debian's chromium or set "
                                          "TASKWARDEN_CHROMIUM") as err:
        browser.find_chromium()
    assert err.value.retryable is False


def test_a_chromium_that_will_not_start_is_a_clear_error(
        ctx: ActionContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TASKWARDEN_CHROMIUM", str(fake))
    browser.close_browser()
    with pytest.raises(ActionError, match=f"could not launch {fake}") as err:
        browser_run({"steps": [{"goto": "about:blank"}]}, ctx)
    assert err.value.retryable is True
    assert browser._browser is None
