"""The status report: what runs, against what should, and how the queue does.

Collected from the server's API (works for a remote server too); the
warden adds its view of the processes it supervises.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from taskwarden.client import Client
from taskwarden.config import Config
from taskwarden.errors import TaskwardenError


def collect(config: Config) -> dict[str, Any]:
    report: dict[str, Any] = {"server": {"url": config.server_url, "up": False}}
    try:
        with Client(config.server_url, config.server.token, timeout=5) as client:
            report["stats"] = client.stats()
            report["workers"] = client.workers()
            report["server"]["up"] = True
    except TaskwardenError as exc:
        report["server"]["error"] = str(exc)
    return report


def render(report: dict[str, Any], console: Console) -> None:
    server = report["server"]
    if not server["up"]:
        console.print(f"[red]server {server['url']} is down[/]: {server.get('error', '')}")
        return
    stats = report["stats"]
    console.print(f"server {server['url']}: [green]up[/]")
    workers = stats["workers"]
    colour = "green" if workers["alive"] == workers["desired"] else "red"
    console.print(f"workers: [{colour}]{workers['alive']} alive[/] / {workers['desired']} desired;"
                  f" wardens alive: {stats['wardens']['alive']}")
    queue = stats["queue"]
    console.print(f"queue: {queue['ready']} ready; " +
                  ", ".join(f"{k} {v}" for k, v in queue["by_state"].items()))
    rates = stats["success_rate"]
    console.print("success rate: " + ", ".join(
        f"{w} {pct(r['rate'])}" for w, r in rates.items()))
    table = Table(title="workers")
    for column in ("id", "pid", "slot", "status", "heartbeat age", "task"):
        table.add_column(column)
    for w in report["workers"]:
        table.add_row(w["id"], str(w["pid"]), str(w["slot"]), w["status"],
                      f"{w['heartbeat_age_s']:.1f}s", str(w["current_task"] or ""))
    console.print(table)


def pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"
