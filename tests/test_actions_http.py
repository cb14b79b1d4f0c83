"""http.request against a real HTTP server on 127.0.0.1 (stdlib, in a thread)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from taskwarden.actions import ActionContext
from taskwarden.actions.http import http_request
from taskwarden.errors import ActionError


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/plain",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Secret", "not returned by default")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/json":
            self._send(200, b'{"ok": true, "n": 3}', "application/json; charset=utf-8")
        elif path == "/text":
            self._send(200, f"hello {self.path}".encode())
        elif path == "/big":
            self._send(200, b"x" * 5000)
        elif path == "/bigjson":
            self._send(200, json.dumps({"data": "y" * 5000}).encode(), "application/json")
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"status body", extra={"Retry-After": "1"})
        elif path == "/redirect":
            self._send(302, b"", extra={"Location": "/json"})
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late")
        else:
            self._send(404, b"no such page")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        seen = {"method": "POST", "path": self.path, "body": self.rfile.read(length).decode(),
                "content_type": self.headers.get("Content-Type"),
                "token": self.headers.get("X-Token")}
        self._send(201, json.dumps(seen).encode(), "application/json")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ctx(tmp_path: Path) -> ActionContext:
    return ActionContext(task_id=7, worker_id="w1", attempt=1, workspace=tmp_path / "ws",
                         artifacts_dir=tmp_path / "art", settings={"http_max_body": 1000})


def test_get_json_is_parsed_and_headers_are_a_subset(base_url: str, ctx: ActionContext) -> None:
    out = http_request({"url": f"{base_url}/json"}, ctx)
    assert out["status"] == 200 and out["body"] == {"ok": True, "n": 3}
    assert out["truncated"] is False
    assert out["headers"]["content-type"].startswith("application/json")
    assert "x-secret" not in out["headers"]
    asked = http_request({"url": f"{base_url}/json", "response_headers": ["X-Secret"]}, ctx)
    assert asked["headers"]["x-secret"] == "not returned by default"


def test_text_body_and_query(base_url: str, ctx: ActionContext) -> None:
    out = http_request({"url": f"{base_url}/text", "query": {"q": "a b"}}, ctx)
    assert out["body"] == "hello /text?q=a+b"


@pytest.mark.parametrize(("body", "sent", "content_type"), [
    ({"json": {"a": 1}}, '{"a":1}', "application/json"),
    ({"form": {"user": "ann", "n": 2}}, "user=ann&n=2", "application/x-www-form-urlencoded"),
    ({"text": "plain words"}, "plain words", None),
])
def test_post_bodies(base_url: str, ctx: ActionContext, body: dict[str, Any], sent: str,
                     content_type: str | None) -> None:
    params = {"url": f"{base_url}/echo", "method": "post", "headers": {"X-Token": "t0k"},
              "expect_status": [200, 201], **body}
    out = http_request(params, ctx)
    assert out["status"] == 201
    assert out["body"]["body"].replace(" ", "") == sent.replace(" ", "")
    assert out["body"]["content_type"] == content_type and out["body"]["token"] == "t0k"


def test_body_is_capped_with_truncated_flag(base_url: str, ctx: ActionContext) -> None:
    out = http_request({"url": f"{base_url}/big"}, ctx)
    assert out["truncated"] is True and out["body"] == "x" * 1000
    partial = http_request({"url": f"{base_url}/bigjson"}, ctx)
    assert partial["truncated"] is True and isinstance(partial["body"], str)


def test_redirects_are_followed_unless_told_not_to(base_url: str, ctx: ActionContext) -> None:
    assert http_request({"url": f"{base_url}/redirect"}, ctx)["url"].endswith("/json")
    out = http_request({"url": f"{base_url}/redirect", "follow_redirects": False,
                        "expect_status": 302}, ctx)
    assert out["headers"]["location"] == "/json"


@pytest.mark.parametrize(("status", "retryable"), [
    (500, True), (503, True), (429, True), (404, False), (400, False), (204, False),
])
def test_unexpected_status_fails(base_url: str, ctx: ActionContext, status: int,
                                 retryable: bool) -> None:
    with pytest.raises(ActionError, match=f"answered {status}, expected 200") as err:
        http_request({"url": f"{base_url}/status/{status}", "expect_status": 200}, ctx)
    assert err.value.retryable is retryable


def test_default_expectation_is_2xx(base_url: str, ctx: ActionContext) -> None:
    assert http_request({"url": f"{base_url}/status/204"}, ctx)["status"] == 204
    with pytest.raises(ActionError, match="expected 2xx: status body"):
        http_request({"url": f"{base_url}/status/500"}, ctx)


def test_connection_refused_is_retried_then_fails_retryable(ctx: ActionContext) -> None:
    with socket.socket() as sock:  # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ActionError, match="failed after 2 retries: ConnectError") as err:
        http_request({"url": f"http://127.0.0.1:{port}/", "retries": 2}, ctx)
    assert err.value.retryable is True
    assert 0.3 < time.monotonic() - started < 5  # the transport backed off between tries


def test_timeout_fails_retryable(base_url: str, ctx: ActionContext) -> None:
    with pytest.raises(ActionError, match=r"timed out after 0\.3 s") as err:
        http_request({"url": f"{base_url}/slow", "timeout": 0.3}, ctx)
    assert err.value.retryable is True


@pytest.mark.parametrize("params", [
    {"url": "ftp://example.org/"},
    {"url": None},
    {"url": "http://127.0.0.1:1/", "method": "BREW"},
    {"url": "http://127.0.0.1:1/", "json": {}, "text": "both"},
    {"url": "http://127.0.0.1:1/", "expect_status": "200"},
    {"url": "http://127.0.0.1:1/", "timeout": -1},
])
def test_bad_params_are_not_retryable(ctx: ActionContext, params: dict[str, Any]) -> None:
    with pytest.raises(ActionError) as err:
        http_request(params, ctx)
    assert err.value.retryable is False
