"""Commands that talk to the queue server: enqueue, results, status."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from taskwarden.cli.app import EXIT_UNREACHABLE, EXIT_USAGE, app, console, fail, load_config
from taskwarden.client import ApiError, Client
from taskwarden.errors import ServerUnreachable
from taskwarden.status import pct as _pct


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that parses as JSON (numbers, true, lists) is taken as JSON."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="-p")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _client(ctx: typer.Context) -> Client:
    config = load_config(ctx)
    return Client(config.server_url, config.server.token)


def _call(func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except ServerUnreachable as exc:
        raise fail(f"{exc}\nIs it running? Start the stack with 'taskwarden up'.",
                   EXIT_UNREACHABLE) from exc
    except ApiError as exc:
        raise fail(f"the server refused: {exc.message} (HTTP {exc.status})", EXIT_USAGE) from exc


@app.command()
def enqueue(ctx: typer.Context, action: str,
            param: list[str] = typer.Option([], "-p", "--param", help="key=value (repeatable)."),
            count: int = typer.Option(1, min=1, max=100_000, help="How many copies."),
            priority: int = typer.Option(0), timeout: float = typer.Option(60.0, min=0.001),
            max_attempts: int = typer.Option(3, min=1),
            wait: bool = typer.Option(False, help="Wait for the (last) task to finish.")) -> None:
    """Enqueue COUNT tasks of ACTION."""
    params = parse_params(param)
    spec = {"action": action, "params": params, "priority": priority, "timeout_s": timeout,
            "max_attempts": max_attempts}
    with _client(ctx) as client:
        tasks = _call(client.enqueue_batch, [spec] * count) if count > 1 else [
            _call(client.enqueue, action, params, priority=priority, timeout_s=timeout,
                  max_attempts=max_attempts)]
        console.print(f"enqueued {len(tasks)} task(s): ids {tasks[0]['id']}..{tasks[-1]['id']}")
        if wait:
            final = _call(client.get, tasks[-1]["id"], wait=min(timeout + 5, 60))
            # Task data is printed as text, never as markup: "[actions]" must stay visible.
            console.print(f"task {final['id']}: {final['state']} {final.get('result') or ''}"
                          f"{final.get('error_message') or ''}", markup=False)


@app.command()
def results(ctx: typer.Context, count: int = typer.Option(20, min=1, max=10_000),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """The most recent finished tasks and their success rate."""
    with _client(ctx) as client:
        data = _call(client.results, count)
    if as_json:
        console.print_json(json.dumps(data))
        return
    table = Table(title=f"last {data['count']} results — success rate {_pct(data['success_rate'])}")
    for column in ("id", "action", "state", "attempts", "latency", "error / result"):
        table.add_column(column)
    for t in data["results"]:
        latency = f"{t['finished_at'] - t['enqueued_at']:.3f}s" if t["finished_at"] else ""
        detail = f"{t['error_class']}: {t['error_message']}" if t["error_class"] else str(t["result"])
        table.add_row(str(t["id"]), Text(t["action"]), t["state"], str(t["attempts"]), latency,
                      Text(detail[:80]))
    console.print(table)


@app.command("status")
def status_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """What runs, queue sizes, success rates."""
    from taskwarden.status import collect, render

    config = load_config(ctx)
    report = collect(config)
    if as_json:
        console.print_json(json.dumps(report))
    else:
        render(report, console)
    if not report["server"]["up"]:
        raise typer.Exit(EXIT_UNREACHABLE)

