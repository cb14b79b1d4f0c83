"""Bad input gets a clear status and leaves the store exactly as it was (real server, real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stackutil import Stack

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # A long lease: task 1 must stay "running" for the whole module, with no worker heartbeating it.
    s = Stack(Path(tmp_path_factory.mktemp("bad-input")), TASKWARDEN_SERVER_MAX_QUEUE="5",
              TASKWARDEN_WORKER_LEASE_S="3600")
    s.start_server()
    s.client.enqueue("noop")  # id 1: stays queued (no worker)
    s.client.enqueue("noop")
    s.client.lease("w-test", 1, 0)  # id 1 is now running
    yield s
    s.close()


def snapshot(stack: Stack) -> list[tuple]:
    with stack.db() as db:
        return db.execute("SELECT * FROM tasks ORDER BY id").fetchall()


CASES = [
    # (name, method, path, kwargs, status, text the error must contain)
    ("malformed json", "POST", "/api/tasks", {"content": b'{"action": ', "headers": JSON}, 400,
     "malformed JSON"),
    ("not an object", "POST", "/api/tasks", {"json": ["noop"]}, 422, "body"),
    ("missing action", "POST", "/api/tasks", {"json": {"params": {}}}, 422, "action"),
    ("empty action", "POST", "/api/tasks", {"json": {"action": ""}}, 422, "action"),
    ("params not a dict", "POST", "/api/tasks", {"json": {"action": "noop", "params": [1]}}, 422,
     "params"),
    ("priority not int", "POST", "/api/tasks", {"json": {"action": "noop", "priority": "high"}}, 422,
     "priority"),
    ("negative timeout", "POST", "/api/tasks", {"json": {"action": "noop", "timeout_s": -1}}, 422,
     "timeout_s"),
    ("zero attempts", "POST", "/api/tasks", {"json": {"action": "noop", "max_attempts": 0}}, 422,
     "max_attempts"),
    ("unknown field", "POST", "/api/tasks", {"json": {"action": "noop", "colour": "red"}}, 422,
     "colour"),
    ("batch with one bad item", "POST", "/api/tasks/batch",
     {"json": [{"action": "noop"}, {"action": "noop", "priority": "x"}]}, 422, "1.priority"),
    ("too large", "POST", "/api/tasks",
     {"json": {"action": "noop", "params": {"blob": "x" * (1024 * 1024)}}}, 413, "larger than"),
    ("too large, chunked", "POST", "/api/tasks",
     {"content": iter([b'{"action": "noop", "params": {"b": "', b"x" * (1024 * 1024 + 10), b'"}}']),
      "headers": JSON}, 413, "larger than"),
    ("queue full", "POST", "/api/tasks/batch", {"json": [{"action": "noop"}] * 5}, 429, "queue full"),
    ("unknown task", "GET", "/api/tasks/424242", {}, 404, "no task 424242"),
    ("task id not a number", "GET", "/api/tasks/abc", {}, 422, "task_id"),
    ("cancel unknown", "POST", "/api/tasks/424242/cancel", {}, 404, "no task"),
    ("cancel running", "POST", "/api/tasks/1/cancel", {}, 409, "only a queued task"),
    ("bad status filter", "GET", "/api/tasks?status=bogus", {}, 422, "status"),
    ("results count zero", "GET", "/api/results?count=0", {}, 422, "count"),
    ("wait too long", "GET", "/api/tasks/2?wait=1000", {}, 422, "wait"),
    ("lease without worker", "POST", "/api/worker/lease", {"json": {"max": 1}}, 422, "worker_id"),
    ("heartbeat bad role", "POST", "/api/worker/heartbeat",
     {"json": {"id": "x", "host": "h", "pid": 1, "role": "king"}}, 422, "role"),
]


@pytest.mark.parametrize(("name", "method", "path", "kwargs", "status", "needle"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(server: Stack, name: str, method: str, path: str,
                                                  kwargs: dict, status: int, needle: str) -> None:
    before = snapshot(server)
    response = httpx.request(method, server.url + path, timeout=10, **kwargs)
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]
    if status == 429:
        assert int(response.headers["Retry-After"]) >= 1
    assert snapshot(server) == before


def test_good_request_after_bad_ones_still_works(server: Stack) -> None:
    response = httpx.post(server.url + "/api/tasks", json={"action": "noop"}, timeout=10)
    assert response.status_code == 201
    assert response.json()["state"] == "queued"


def test_idempotency_key_returns_the_same_task(server: Stack) -> None:
    body = {"action": "noop", "idempotency_key": "order-17"}
    first = httpx.post(server.url + "/api/tasks", json=body, timeout=10)
    again = httpx.post(server.url + "/api/tasks", json=body, timeout=10)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


def test_openapi_docs_are_served(server: Stack) -> None:
    spec = httpx.get(server.url + "/openapi.json", timeout=10).json()
    assert "/api/tasks" in spec["paths"]
    assert httpx.get(server.url + "/docs", timeout=10).status_code == 200
