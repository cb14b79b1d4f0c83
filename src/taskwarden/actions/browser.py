"""``browser.run``: drive headless Chromium through a list of steps (Playwright).

Needs the extra ``taskwarden[browser]`` and a system Chromium; Playwright is
imported on first use, so a core install works without it. The executable is
``$TASKWARDEN_CHROMIUM``, else ``/usr/bin/chromium``, else ``chromium``,
``chromium-browser`` or ``google-chrome`` on PATH (Playwright's own browser
downloads are never used: machines here are often offline).

Params: ``steps`` (list, each one object with one verb)::

    {"goto": url}            {"click": sel}           {"fill": sel, "value": v}
    {"select": sel, "value": v}                       {"press": sel, "key": k}
    {"wait_for": sel}        {"wait_for_text": t}     {"assert_text": t}
    {"extract": sel, "as": name, "attr"?: a, "all"?: bool}
    {"screenshot": name, "full_page"?: bool}

and ``timeout`` (seconds per step, default 10; any step may carry its own
``"timeout"`` to override it). Selectors are Playwright
selectors; actions use the first match.

One browser per process, launched on first use and reused by later tasks
(relaunched if it died or disconnected); each task gets a fresh context, so
cookies and storage never leak between tasks. The sync API binds the browser
to the thread that launched it: call this action from one thread.

Screenshots are written to ``ctx.artifacts_dir`` (created). When a step fails,
``failure.png`` is saved there and the error names the step index, its verb,
and the page URL. A ``goto`` answered with 4xx fails not retryable, 5xx
retryable; other step failures (a missing element, a timeout) are retryable.
Result: ``{"extracted": {...}, "artifacts": [file names], "url": final url}``.

Settings read: ``browser_args`` (extra Chromium flags, optional).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from typing import Any

from taskwarden.actions.registry import ActionContext, ActionFunc
from taskwarden.errors import ActionError

DEFAULT_STEP_TIMEOUT = 10.0
# Without these, Chromium on an offline machine stalls on updates, sync and QUIC probes.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
NO_CHROMIUM = "no Chromium found: install Debian's chromium or set TASKWARDEN_CHROMIUM"
VERBS: dict[str, tuple[str, ...]] = {  # verb -> other keys it requires
    "goto": (), "click": (), "fill": ("value",), "select": ("value",), "press": ("key",),
    "wait_for": (), "wait_for_text": (), "extract": ("as",), "screenshot": (),
    "assert_text": (),
}
OPTIONAL = {"extract": ("attr", "all"), "screenshot": ("full_page",)}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

_playwright: Any = None
_browser: Any = None


def find_chromium() -> str:
    """The Chromium executable to launch, or ActionError(NO_CHROMIUM)."""
    override = os.environ.get("TASKWARDEN_CHROMIUM")
    if override:
        if os.access(override, os.X_OK):
            return override
        raise ActionError(f"{NO_CHROMIUM} (TASKWARDEN_CHROMIUM={override!r} is not an "
                          "executable file)", retryable=False)
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise ActionError(NO_CHROMIUM, retryable=False)


def _get_browser(extra_args: list[str]) -> Any:
    """The process's browser, launching (or relaunching) it when needed."""
    global _playwright, _browser
    if _browser is not None and _browser.is_connected():
        return _browser
    executable = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ActionError("browser actions need Playwright: pip install 'taskwarden[browser]'",
                          retryable=False) from exc
    close_browser()
    try:
        _playwright = sync_playwright().start()
        _browser = _playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS + extra_args)
    except Exception as exc:
        close_browser()
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ActionError(f"browser.run: could not launch {executable}: {detail}") from exc
    return _browser


def close_browser() -> None:
    """Stop the shared browser and Playwright driver, ignoring a dead one."""
    global _playwright, _browser
    for thing in (_browser, _playwright):
        if thing is None:
            continue
        # A dead browser or driver has nothing left to release.
        with contextlib.suppress(Exception):
            thing.close() if thing is _browser else thing.stop()
    _playwright = _browser = None


def _seconds(value: Any, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ActionError(f"browser.run: {what} must be seconds > 0, got {value!r}",
                          retryable=False)
    return float(value)


def _validate(steps: Any) -> list[tuple[str, dict[str, Any]]]:
    """(verb, step) pairs, or a non-retryable error naming the bad step."""
    if not isinstance(steps, list) or not steps:
        raise ActionError("browser.run: 'steps' must be a non-empty list", retryable=False)
    checked = []
    for i, step in enumerate(steps):
        verbs = [k for k in step if k in VERBS] if isinstance(step, dict) else []
        if len(verbs) != 1:
            raise ActionError(f"browser.run: step {i} must be an object with exactly one of "
                              f"{sorted(VERBS)}, got {step!r}", retryable=False)
        verb = verbs[0]
        allowed = {verb, "timeout", *VERBS[verb], *OPTIONAL.get(verb, ())}
        missing = [k for k in VERBS[verb] if k not in step]
        unknown = sorted(set(step) - allowed)
        if missing or unknown or not isinstance(step[verb], str):
            raise ActionError(f"browser.run: step {i} ({verb}) needs a string target and "
                              f"{list(VERBS[verb]) or 'nothing else'}; missing {missing}, "
                              f"unknown {unknown}", retryable=False)
        if "timeout" in step:
            _seconds(step["timeout"], f"step {i} 'timeout'")
        checked.append((verb, step))
    return checked


def _artifact_name(raw: str) -> str:
    name = SAFE_NAME.sub("_", raw).strip("._") or "screenshot"
    return name if name.lower().endswith(".png") else name + ".png"


def _goto(page: Any, url: str) -> None:
    response = page.goto(url)
    if response is not None and response.status >= 400:
        raise ActionError(f"goto {url} answered {response.status}",
                          retryable=response.status >= 500)


def _run_step(page: Any, verb: str, step: dict[str, Any], ctx: ActionContext,
              timeout_ms: float, extracted: dict[str, Any], artifacts: list[str]) -> None:
    from playwright.sync_api import expect

    target = step[verb]
    if verb == "goto":
        _goto(page, target)
    elif verb == "click":
        page.locator(target).first.click()
    elif verb == "fill":
        page.locator(target).first.fill(str(step["value"]))
    elif verb == "select":
        page.locator(target).first.select_option(str(step["value"]))
    elif verb == "press":
        page.locator(target).first.press(str(step["key"]))
    elif verb == "wait_for":
        page.locator(target).first.wait_for(state="visible")
    elif verb in ("wait_for_text", "assert_text"):
        expect(page.locator("body")).to_contain_text(target, timeout=timeout_ms)
    elif verb == "extract":
        extracted[str(step["as"])] = _extract(page.locator(target), step)
    elif verb == "screenshot":
        name = _artifact_name(target)
        page.screenshot(path=ctx.artifacts_dir / name, full_page=bool(step.get("full_page")))
        artifacts.append(name)


def _extract(locator: Any, step: dict[str, Any]) -> Any:
    attr = step.get("attr")
    if step.get("all"):
        locator.first.wait_for(state="attached")
        items = locator.all()
        if attr:
            return [item.get_attribute(attr) for item in items]
        return [item.inner_text().strip() for item in items]
    if attr:
        return locator.first.get_attribute(attr)
    return locator.first.inner_text().strip()


def _fail(page: Any, ctx: ActionContext, index: int, verb: str, step: dict[str, Any],
          exc: Exception, artifacts: list[str]) -> ActionError:
    """The error for a failed step, after saving ``failure.png`` if the page still answers."""
    saved = ""
    try:
        page.screenshot(path=ctx.artifacts_dir / "failure.png", timeout=5000)
        artifacts.append("failure.png")
        saved = "; screenshot failure.png"
    except Exception:  # the page may be gone; the error below still says what happened
        pass
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    retryable = exc.retryable if isinstance(exc, ActionError) else True
    return ActionError(f"browser.run: step {index} ({verb} {step[verb]!r}) failed at "
                       f"{page.url}: {first_line}{saved}", retryable=retryable)


def browser_run(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Run the steps in a fresh context of the shared browser; see the module docstring."""
    steps = _validate(params.get("steps"))
    timeout = _seconds(params.get("timeout", DEFAULT_STEP_TIMEOUT), "'timeout'")
    ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)
    extra_args = [str(a) for a in ctx.settings.get("browser_args", ())]
    try:
        context = _get_browser(extra_args).new_context()
    except ActionError:
        raise
    except Exception:  # the driver itself died: start over once
        close_browser()
        context = _get_browser(extra_args).new_context()
    extracted: dict[str, Any] = {}
    artifacts: list[str] = []
    try:
        page = context.new_page()
        for index, (verb, step) in enumerate(steps):
            timeout_ms = float(step.get("timeout", timeout)) * 1000
            page.set_default_timeout(timeout_ms)
            page.set_default_navigation_timeout(timeout_ms)
            try:
                _run_step(page, verb, step, ctx, timeout_ms, extracted, artifacts)
            except Exception as exc:
                raise _fail(page, ctx, index, verb, step, exc, artifacts) from exc
        return {"extracted": extracted, "artifacts": artifacts, "url": page.url}
    finally:
        # A browser that died mid-task is relaunched by the next one.
        with contextlib.suppress(Exception):
            context.close()


ACTIONS: dict[str, ActionFunc] = {"browser.run": browser_run}
