"""Throughput and round-trip benchmark of the embedded-store stack (issue 2).

Runs the same three workloads as ``../shared/bench-anchors`` (W1 enqueue,
W2 end-to-end, W3 round trip), once per SQLite durability setting:

- ``NORMAL`` (the default): WAL, an acknowledged enqueue survives kill -9 of any process;
- ``FULL``: fsync per commit, survives power loss too (Huey's default).

Prints a table; with ``--anchors FILE`` (the anchors' summary or raw.jsonl
figures given by hand as JSON) it also prints ratios. Not a test: nothing asserts.

    .venv/bin/python bench/throughput.py [--n 10000] [--lat-n 300] [--modes NORMAL,FULL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

WORKERS = 2


class Http:
    """A bare keep-alive HTTP/1.1 client (stdlib): the producer's cost stays small and constant.

    httpx costs ~3x more CPU per request; on 2 cores that CPU is taken from the
    server and workers being measured. The peers' anchors use their own native clients too.
    """

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self._conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def request(self, method: str, path: str, body: object = None) -> object:
        payload = json.dumps(body) if body is not None else None
        headers = {"content-type": "application/json"} if payload is not None else {}
        self._conn.request(method, path, payload, headers)
        response = self._conn.getresponse()
        data = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status} {data[:200]!r}")
        return json.loads(data)

    def post(self, path: str, body: object) -> object:
        return self.request("POST", path, body)

    def get(self, path: str) -> object:
        return self.request("GET", path)

    def close(self) -> None:
        self._conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, synchronous: str, prefetch: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tw-bench-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "TASKWARDEN_DATA_DIR": str(self.dir),
                    "TASKWARDEN_SERVER_PORT": str(self.port),
                    "TASKWARDEN_SQLITE_SYNCHRONOUS": synchronous,
                    "TASKWARDEN_WORKER_PREFETCH": str(prefetch)}
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, *args: str) -> None:
        log = open(self.dir / f"{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        self.procs.append(subprocess.Popen([sys.executable, "-m", "taskwarden", *args], env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT))

    def start_server(self) -> None:
        self.spawn("server")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def start_workers(self, http: Http) -> None:
        for slot in range(WORKERS):
            self.spawn("worker", "--slot", str(slot))
        deadline = time.monotonic() + 30
        while http.get("/api/stats")["workers"]["alive"] < WORKERS:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def w1_single(http: Http, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        http.post("/api/tasks", {"action": "noop", "params": {"i": i}})
    return n / (time.perf_counter() - start)


def w1_batch(http: Http, n: int, size: int = 1000) -> float:
    start = time.perf_counter()
    for first in range(0, n, size):
        http.post("/api/tasks/batch", [{"action": "noop", "params": {"i": i}}
                                       for i in range(first, min(n, first + size))])
    return n / (time.perf_counter() - start)


def w3_round_trip(http: Http, n: int) -> list[float]:
    for _ in range(20):  # warm-up, awaited
        tid = http.post("/api/tasks", {"action": "smoke"})["id"]
        http.get(f"/api/tasks/{tid}?wait=5")
    time.sleep(2)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        tid = http.post("/api/tasks", {"action": "smoke"})["id"]
        task = http.get(f"/api/tasks/{tid}?wait=5")
        samples.append((time.perf_counter() - start) * 1000)
        assert task["state"] == "succeeded", task
    return samples


def w2_end_to_end(http: Http, n: int) -> tuple[float, float]:
    before = http.get("/api/stats")["queue"]["by_state"]["succeeded"]
    start = time.perf_counter()
    last = 0
    for i in range(n):
        last = http.post("/api/tasks", {"action": "noop", "params": {"i": i}})["id"]
    enqueued = time.perf_counter() - start
    http.get(f"/api/tasks/{last}?wait=60")
    while http.get("/api/stats")["queue"]["by_state"]["succeeded"] < before + n:
        time.sleep(0.02)
    return n / (time.perf_counter() - start), enqueued


def nearest_rank(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-int(q * len(ordered) * 1000) // 1000) - 1)]


def run_mode(synchronous: str, n: int, lat_n: int, prefetch: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    stack = Stack(synchronous, prefetch)
    try:
        stack.start_server()
        http = Http(stack.url)
        try:
            figures["w1_single"] = w1_single(http, n)
            figures["w1_batch"] = w1_batch(http, n)
            stack.start_workers(http)
            deadline = time.monotonic() + 300  # the 2 n W1 tasks drain first, unmeasured
            while http.get("/api/stats")["queue"]["ready"] and time.monotonic() < deadline:
                time.sleep(0.2)
            samples = w3_round_trip(http, lat_n)
            figures.update({f"w3_{k}": nearest_rank(samples, q)
                            for k, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))})
            figures["w3_mean"] = statistics.fmean(samples)
            figures["w2"], figures["w2_enqueue_s"] = w2_end_to_end(http, n)
        finally:
            http.close()
    finally:
        stack.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--lat-n", type=int, default=300)
    parser.add_argument("--modes", default="NORMAL,FULL")
    parser.add_argument("--prefetch", type=int, default=4)
    parser.add_argument("--anchors", type=Path, help="JSON of peer figures to print ratios against")
    args = parser.parse_args()
    results = {mode: run_mode(mode, args.n, args.lat_n, args.prefetch) for mode in args.modes.split(",")}
    print(f"taskwarden, {args.n} tasks, {WORKERS} workers, prefetch {args.prefetch}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'synchronous':<12}{'W1 single/s':>13}{'W1 batch/s':>12}{'W2 e2e/s':>10}"
          f"{'W2 enq s':>10}{'W3 p50 ms':>11}{'p95':>8}{'p99':>8}")
    for mode, f in results.items():
        print(f"{mode:<12}{f['w1_single']:>13,.0f}{f['w1_batch']:>12,.0f}{f['w2']:>10,.0f}"
              f"{f['w2_enqueue_s']:>10.1f}{f['w3_p50']:>11.2f}{f['w3_p95']:>8.2f}{f['w3_p99']:>8.2f}")
    if args.anchors:
        peers = json.loads(args.anchors.read_text())
        print("\nratios, taskwarden NORMAL / peer (higher is better for rates, lower for latency):")
        ours = results.get("NORMAL") or next(iter(results.values()))
        for peer, fig in peers.items():
            parts = [f"{key} {ours[key] / value:.2f}x" for key, value in fig.items() if key in ours]
            print(f"  {peer}: " + ", ".join(parts))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
