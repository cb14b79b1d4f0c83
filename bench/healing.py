"""How fast the warden heals a SIGKILLed worker, under the default (unscaled) policy.

For each of 20 rounds: a fresh stack (``up --detach``, one worker), a
``sleep`` task that the worker is running, then SIGKILL of the worker. We
time, from the kill:

  (a) the orphaned task back in ``queued`` or already leased to someone else
      (the warden releases a dead worker's leases at once; the lease deadline,
      30 s by default, is only the backstop);
  (b) the replacement worker's first heartbeat reaching the server.

A fresh stack per round means every kill is the worker's *first* death, which
the policy answers with an immediate restart (later deaths within 60 s of
stable running wait 5 s, 10 s, ... 60 s by design). Waiting 60 s of stable
running between kills on one stack would measure the same thing in 20 minutes.

    .venv/bin/python bench/healing.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from taskwarden.client import Client

POLL_S = 0.005


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "taskwarden", *args], env=env, check=True,
                   capture_output=True, timeout=120)


def wait(condition, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    raise TimeoutError("condition not met")


def one_round(data_dir: Path) -> tuple[float, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKWARDEN_")}
    env.update({"TASKWARDEN_DATA_DIR": str(data_dir), "TASKWARDEN_SERVER_PORT": str(port),
                "TASKWARDEN_WARDEN_MONITOR": "false"})
    cli(env, "up", "--detach")
    client = Client(f"http://127.0.0.1:{port}", timeout=5)
    try:
        task = client.enqueue("sleep", {"seconds": 2.0}, max_attempts=5)
        owner = wait(lambda: (t := client.get(task["id"]))["state"] == "running" and t["lease_owner"])
        victim = int(owner.rsplit("-", 1)[1])
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        requeued = heartbeat = None
        while requeued is None or heartbeat is None:
            now = time.monotonic()
            if requeued is None:
                t = client.get(task["id"])
                if t["state"] == "queued" or (t["lease_owner"] not in (None, owner)):
                    requeued = now - killed
            if heartbeat is None and any(w["pid"] != victim and w["status"] != "stopped"
                                         for w in client.workers()):
                heartbeat = now - killed
            if now - killed > 60:
                raise TimeoutError("no healing within 60 s")
            time.sleep(POLL_S)
        moves = [e["detail"] for e in client.events(limit=1000, kind="process_state")
                 if e["subject"] == "worker-0" and e["detail"]["to"] == "backoff"]
        if len(moves) != 1 or moves[0]["delay_s"] != 0:  # show what the policy did, if not "at once"
            print(f"  worker-0 exits after the kill: {moves}", flush=True)
        return requeued, heartbeat
    finally:
        client.close()
        cli(env, "down")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    requeue, beat = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            a, b = one_round(Path(tmp) / f"round-{i}")
            requeue.append(a)
            beat.append(b)
            print(f"round {i + 1:2d}: task back {a * 1000:7.1f} ms, new worker heartbeat {b * 1000:7.1f} ms",
                  flush=True)
    print("\npolicy: default, unscaled (tick 0.2 s, backoff 5 s doubling to 60 s, reset after 60 s);")
    print("        each kill is the worker's first death on a fresh stack, so the restart is immediate")
    for name, values, target in (("(a) kill -> task queued/re-leased", requeue, 1.0),
                                 ("(b) kill -> new worker heartbeat", beat, 2.0)):
        verdict = "met" if max(values) < target else "MISSED"
        print(f"{name}: median {statistics.median(values) * 1000:.0f} ms, "
              f"worst {max(values) * 1000:.0f} ms (target < {target:g} s: {verdict})")


if __name__ == "__main__":
    main()
