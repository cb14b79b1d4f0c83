"""The status report: what runs, against what should, and how the queue does.

Collected from the server's API (works for a remote server too); the
warden adds its view of the processes it supervises.
"""

from __future__ import annotations

from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from taskwarden.client import Client
from taskwarden.config import Config
from taskwarden.errors import TaskwardenError
from taskwarden.locks import ProcessLock
from taskwarden.supervision import state_file


def collect(config: Config) -> dict[str, Any]:
    report: dict[str, Any] = {"server": {"url": config.server_url, "up": False}}
    try:
        with Client(config.server_url, config.server.token, timeout=5) as client:
            report["stats"] = client.stats()
            report["workers"] = client.workers()
            report["alerts"] = client.alerts()["active"]
            report["server"]["up"] = True
    except TaskwardenError as exc:
        report["server"]["error"] = str(exc)
    report["warden"] = warden_view(config)
    return report


def warden_view(config: Config) -> dict[str, Any]:
    """The warden's own account (``run/warden.state.json``), trusted only while it holds the lock.

    Read without touching the lock itself, so ``status`` can never make a
    concurrent ``up`` believe a warden runs.
    """
    state = state_file.read(config.data_dir) or {}
    holder = ProcessLock(config.data_dir / "run", "warden").holder() or {}
    pid = state.get("pid")
    running = bool(pid) and holder.get("pid") == pid and psutil.pid_exists(pid)
    children = state.get("children", []) if running else []
    counts = {kind: sum(1 for c in children if c["component"] == component and c["state"] == "running")
              for kind, component in (("server", "server"), ("worker", "rpa_worker"),
                                      ("monitor", "monitor"))}
    return {"running": running, "pid": pid if running else None,
            "desired": state.get("desired", {}) if running else {}, "running_count": counts,
            "children": children, "strays": state.get("strays", []) if running else [],
            "updated_at": state.get("updated_at")}


def render(report: dict[str, Any], console: Console) -> None:
    render_warden(report.get("warden") or {}, console)
    server = report["server"]
    if not server["up"]:
        console.print(f"[red]server {server['url']} is down[/]: {server.get('error', '')}")
        return
    stats = report["stats"]
    console.print(f"server {server['url']}: [green]up[/]")
    render_alerts(report.get("alerts") or [], console)
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


def render_alerts(alerts: list[dict[str, Any]], console: Console) -> None:
    firing = [a for a in alerts if a["state"] == "firing"]
    if not alerts:
        console.print("alerts: [green]none active[/]")
        return
    console.print(f"alerts: [red]{len(firing)} firing[/], {len(alerts) - len(firing)} pending")
    for a in alerts:
        console.print(f"  {a['state']:<8} {a['severity']:<9} {a['name']}: {a.get('summary') or ''}",
                      markup=False)


def render_warden(view: dict[str, Any], console: Console) -> None:
    if not view.get("running"):
        console.print("warden: [red]not running[/] (start it with 'taskwarden up' or 'ensure')")
        return
    desired, running = view["desired"], view["running_count"]
    counts = ", ".join(f"{k} {running.get(k, 0)}/{v}" for k, v in desired.items() if v)
    colour = "green" if all(running.get(k, 0) == v for k, v in desired.items()) else "red"
    console.print(f"warden pid {view['pid']}: [{colour}]{counts}[/] running/desired"
                  + (f"; strays {view['strays']}" if view["strays"] else ""))
    table = Table(title="components")
    for column in ("component", "pid", "state", "restarts", "uptime", "last exit", "alert"):
        table.add_column(column)
    for c in view["children"]:
        uptime = f"{c['uptime_s']:.0f}s" if c["uptime_s"] is not None else ""
        table.add_row(c["name"], str(c["pid"] or ""), c["state"], str(c["restarts"]), uptime,
                      "" if c["last_exit"] is None else str(c["last_exit"]),
                      "[red]firing[/]" if c["alert_firing"] else "")
    console.print(table)


def pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"
