"""The HTTP client every other process uses: CLI, workers, warden, monitor, drills.

Keeping all of the API's shape in one place means the server's routes and
their callers can be read side by side. Transport errors become
:class:`ServerUnreachable`; HTTP errors keep their status and the server's message.
"""

from __future__ import annotations

from typing import Any

import httpx

from taskwarden.errors import ServerUnreachable, TaskwardenError


class ApiError(TaskwardenError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.message, self.retry_after = status, message, retry_after


class Client:
    """A keep-alive connection to one queue server."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        try:
            extra = {"timeout": timeout} if timeout is not None else {}
            response = self._http.request(method, path, **kwargs, **extra)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"queue server at {self.base_url} is not reachable: {exc}") from exc
        if response.status_code >= 400:
            raise _api_error(response)
        return response.json()

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

    def health(self) -> dict:
        return self._call("GET", "/api/health")

    # -- worker side ---------------------------------------------------
    def lease(self, worker_id: str, limit: int, wait_s: float) -> list[dict]:
        body = {"worker_id": worker_id, "max": limit, "wait_s": wait_s}
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


def _api_error(response: httpx.Response) -> ApiError:
    try:
        message = response.json().get("error") or response.text
    except ValueError:
        message = response.text
    retry = response.headers.get("Retry-After")
    return ApiError(response.status_code, message, float(retry) if retry else None)
