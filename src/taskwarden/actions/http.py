"""``http.request``: one HTTP call, checked against the status the task expects.

Params: ``url`` (http/https), ``method`` (default GET), ``headers``, ``query``,
at most one body of ``json`` / ``form`` (dict) / ``text``, ``timeout``
(seconds, default 30), ``expect_status`` (int or list; default any 2xx),
``follow_redirects`` (default true), ``retries`` (connection attempts after the
first, default 3), ``response_headers`` (extra header names to return).

Outcomes a caller may rely on:

* a status outside ``expect_status``: 5xx, 408 and 429 fail *retryable* (the
  server may recover); anything else fails *not retryable*;
* connection failures are retried by httpx's transport with a short
  exponential backoff (first retry at once, then 0.5 s, 1 s, ...); only the
  connect phase is retried, so a POST is never sent twice by this action;
  once retries are spent, or on a timeout, the action fails retryable;
* the body is read up to ``settings["http_max_body"]`` bytes (default 1 MiB);
  more sets ``truncated`` and the body is returned as text, since partial
  JSON cannot be parsed.

Settings read: ``http_max_body``.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

import httpx

from taskwarden.actions.registry import ActionContext, ActionFunc
from taskwarden.errors import ActionError

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
RETRYABLE_4XX = frozenset({408, 429})
KEPT_HEADERS = ("content-type", "content-length", "location", "etag", "last-modified",
                "retry-after")


def _bad(message: str) -> ActionError:
    return ActionError(f"http.request: {message}", retryable=False)


def _expected(params: dict[str, Any]) -> list[int] | None:
    """The accepted statuses, or None for 'any 2xx'."""
    raw = params.get("expect_status")
    if raw is None:
        return None
    codes = raw if isinstance(raw, list) else [raw]
    if not codes or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
        raise _bad(f"'expect_status' must be an int or a list of ints, got {raw!r}")
    return codes


def _body(params: dict[str, Any]) -> dict[str, Any]:
    """httpx keyword arguments for the one body the task gave, if any."""
    given = [k for k in ("json", "form", "text") if k in params]
    if len(given) > 1:
        raise _bad(f"give at most one body of json/form/text, got {given}")
    if not given:
        return {}
    key = given[0]
    value = params[key]
    if key == "json":
        return {"json": value}
    if key == "form":
        if not isinstance(value, dict):
            raise _bad(f"'form' must be an object, got {type(value).__name__}")
        return {"data": {str(k): str(v) for k, v in value.items()}}
    if not isinstance(value, str):
        raise _bad(f"'text' must be a string, got {type(value).__name__}")
    return {"content": value.encode("utf-8")}


def _number(params: dict[str, Any], key: str, default: float, minimum: float) -> float:
    value = params.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < minimum:
        raise _bad(f"'{key}' must be a number >= {minimum}, got {value!r}")
    return float(value)


def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of the streamed body, and whether more was left."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], True
    return b"".join(chunks), False


def _decode(response: httpx.Response, data: bytes, truncated: bool) -> Any:
    text = data.decode(response.encoding or "utf-8", errors="replace")
    content_type = response.headers.get("content-type", "").lower()
    if not truncated and ("json" in content_type.split(";")[0]) and data:
        try:
            return jsonlib.loads(text)
        except ValueError:
            pass
    return text


def _check_status(status: int, expected: list[int] | None, url: str, body: Any) -> None:
    if (expected is None and 200 <= status < 300) or (expected and status in expected):
        return
    wanted = "2xx" if expected is None else " or ".join(map(str, expected))
    snippet = (body if isinstance(body, str) else jsonlib.dumps(body))[:300]
    raise ActionError(f"http.request: {url} answered {status}, expected {wanted}: {snippet}",
                      retryable=status >= 500 or status in RETRYABLE_4XX)


def http_request(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Send one request and return status, selected headers and the (capped) body."""
    url = params.get("url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise _bad(f"'url' must be an http(s) URL, got {url!r}")
    method = str(params.get("method", "GET")).upper()
    if method not in METHODS:
        raise _bad(f"method {method!r} is not one of {sorted(METHODS)}")
    headers = params.get("headers") or {}
    if not isinstance(headers, dict):
        raise _bad(f"'headers' must be an object, got {type(headers).__name__}")
    expected = _expected(params)
    timeout = _number(params, "timeout", DEFAULT_TIMEOUT, 0.001)
    retries = int(_number(params, "retries", DEFAULT_RETRIES, 0))
    cap = int(ctx.settings.get("http_max_body", DEFAULT_MAX_BODY))
    keep = KEPT_HEADERS + tuple(h.lower() for h in params.get("response_headers", ()))

    with httpx.Client(transport=httpx.HTTPTransport(retries=retries), timeout=timeout,
                      follow_redirects=bool(params.get("follow_redirects", True))) as client:
        try:
            request = client.build_request(
                method, url, headers={str(k): str(v) for k, v in headers.items()},
                params=params.get("query"), **_body(params))
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise _bad(f"cannot build {method} {url}: {exc}") from exc
        try:
            response = client.send(request, stream=True)
            try:
                data, truncated = _read_capped(response, cap)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise ActionError(f"http.request: {method} {url} timed out after {timeout:g} s "
                              f"({type(exc).__name__})") from exc
        except httpx.UnsupportedProtocol as exc:
            raise _bad(f"cannot send {method} {url}: {exc}") from exc
        except httpx.TransportError as exc:
            tries = f" after {retries} retries" if isinstance(exc, httpx.ConnectError) else ""
            raise ActionError(f"http.request: {method} {url} failed{tries}: "
                              f"{type(exc).__name__}: {exc}") from exc

    body = _decode(response, data, truncated)
    _check_status(response.status_code, expected, str(response.url), body)
    return {
        "status": response.status_code,
        "url": str(response.url),
        "headers": {k: v for k, v in response.headers.items() if k.lower() in keep},
        "body": body,
        "truncated": truncated,
    }


ACTIONS: dict[str, ActionFunc] = {"http.request": http_request}
