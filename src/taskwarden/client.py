"""The HTTP client every other process uses: CLI, workers, warden, monitor, drills.

Keeping all of the API's shape in one place means the server's routes and
their callers can be read side by side. Transport errors become
:class:`ServerUnreachable`; HTTP errors keep their status and the server's message.

The transport is urllib3's connection pool: keep-alive, thread-safe (a
worker's heartbeat thread shares it) and about half the CPU per request of
httpx, which matters on the worker's lease/complete path (measured: 227 vs
489 us of client CPU per request on the reference machine).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3

from taskwarden.errors import ServerUnreachable, TaskwardenError


class ApiError(TaskwardenError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.message, self.retry_after = status, message, retry_after


class Client:
    """Keep-alive connections to one queue server."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._pool = urllib3.connection_from_url(self.base_url, maxsize=4, headers=headers,
                                                 retries=False)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, timeout: float | None = None,
              json: Any = None, params: dict[str, Any] | None = None) -> Any:
        url = f"{path}?{urlencode(params)}" if params else path
        try:
            response = self._pool.request(method, url, json=json, timeout=timeout or self.timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise ServerUnreachable(f"queue server at {self.base_url} is not reachable: {exc}") from exc
        if response.status >= 400:
            raise _api_error(response)
        return _decode(response.data)

    # -- client side ---------------------------------------------------
    def enqueue(self, action: str, params: dict[str, Any] | None = None, **options: Any) -> dict:
        return self._call("POST", "/api/tasks", json={"action": action, "params": params or {},
                                                      **options})

    def enqueue_batch(self, tasks: list[dict[str, Any]]) -> list[dict]:
        return self._call("POST", "/api/tasks/batch", json=tasks)["tasks"]

    def get(self, task_id: int, wait: float | None = None) -> dict:
        params = {"wait": wait} if wait else {}
        timeout = (wait + 10) if wait else None
        return self._call("GET", f"/api/tasks/{task_id}", params=params, timeout=timeout)

    def list_tasks(self, status: str | None = None, action: str | None = None,
                   limit: int = 100) -> list[dict]:
        params = {k: v for k, v in {"status": status, "action": action, "limit": limit}.items() if v}
        return self._call("GET", "/api/tasks", params=params)["tasks"]

    def cancel(self, task_id: int) -> dict:
        return self._call("POST", f"/api/tasks/{task_id}/cancel")

    def results(self, count: int = 20) -> dict:
        return self._call("GET", "/api/results", params={"count": count})

    def stats(self) -> dict:
        return self._call("GET", "/api/stats")

    def workers(self) -> list[dict]:
        return self._call("GET", "/api/workers")["workers"]

    def events(self, after: int = 0, limit: int = 100, kind: str | None = None) -> list[dict]:
        params: dict[str, Any] = {"after": after, "limit": limit}
        if kind:
            params["kind"] = kind
        return self._call("GET", "/api/events", params=params)["events"]

    def alerts(self) -> dict:
        return self._call("GET", "/api/alerts")

    def health(self) -> dict:
        return self._call("GET", "/api/health")

    # -- worker side ---------------------------------------------------
    def lease(self, worker_id: str, limit: int, wait_s: float, results: list[dict] | None = None,
              failures: list[dict] | None = None) -> list[dict]:
        """Lease up to ``limit`` tasks, first recording the outcomes given (one request for both)."""
        body = {"worker_id": worker_id, "max": limit, "wait_s": wait_s, "results": results or [],
                "failures": failures or []}
        return self._call("POST", "/api/worker/lease", json=body, timeout=wait_s + 10)["tasks"]

    def heartbeat(self, worker: dict[str, Any]) -> dict:
        return self._call("POST", "/api/worker/heartbeat", json=worker)

    def complete(self, worker_id: str, results: list[dict[str, Any]]) -> dict:
        return self._call("POST", "/api/worker/complete",
                          json={"worker_id": worker_id, "results": results})

    def fail(self, worker_id: str, failures: list[dict[str, Any]]) -> dict:
        return self._call("POST", "/api/worker/fail",
                          json={"worker_id": worker_id, "failures": failures})

    def release(self, worker_id: str, task_ids: list[int] | None = None,
                count_attempt: bool = False) -> dict:
        body = {"worker_id": worker_id, "task_ids": task_ids, "count_attempt": count_attempt}
        return self._call("POST", "/api/worker/release", json=body)

    def record_event(self, kind: str, subject: str, detail: dict[str, Any] | None = None) -> dict:
        return self._call("POST", "/api/events",
                          json={"kind": kind, "subject": subject, "detail": detail or {}})


def _decode(data: bytes) -> Any:
    return json.loads(data) if data else None


def _api_error(response: urllib3.BaseHTTPResponse) -> ApiError:
    try:
        body = _decode(response.data)
        message = body.get("error") if isinstance(body, dict) else None
    except ValueError:
        message = None
    retry = response.headers.get("Retry-After")
    return ApiError(response.status, message or response.data.decode(errors="replace"),
                    float(retry) if retry else None)
