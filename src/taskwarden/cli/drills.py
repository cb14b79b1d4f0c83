"""``taskwarden drill NAME|all``: break the running stack on purpose and judge how it heals.

Parses, shows the progress line and the verdict table, writes the reports;
the drills themselves live in :mod:`taskwarden.drills`. Exit 0 when every
check passed, 1 when one failed, 3 when no server answers.
"""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.table import Table

from taskwarden.cli.app import EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE, app, console, fail, load_config

QUIET_S = 60.0


@app.command()
def drill(ctx: typer.Context,
          name: str = typer.Argument(..., help="crash, overload, invalid, hang, server-crash,"
                                               " restart-limit or all."),
          quiet_timeout: float = typer.Option(
              QUIET_S, help="Real seconds to wait for a quiet stack (no firing alert, empty queue) first.")
          ) -> None:
    """Inject a fault into the running stack, watch it heal, print a verdict and write a report."""
    from taskwarden.drills import DRILLS, runner, verdict
    from taskwarden.reports.schedule import reports_dir, stamp

    if name != "all" and name not in DRILLS:
        raise fail(f"unknown drill {name!r}; choose one of: {', '.join(DRILLS)}, all", EXIT_USAGE)
    config = load_config(ctx)
    chosen = DRILLS if name == "all" else {name: DRILLS[name]}
    results = []
    with runner.opened(config) as store, console.status("drill: starting") as status:
        def progress(text: str) -> None:
            status.update(text)

        for drill_name, func in chosen.items():
            if not runner.quiet(config, store, progress, quiet_timeout):
                console.print(f"[yellow]{drill_name}: the stack was not quiet within {quiet_timeout:g}s;"
                              " alerts already firing are left out of this drill's count[/]")
            v = runner.run(drill_name, func, config, store, progress)
            results.append(v)
            _show(v.to_dict())
            doc = v.to_dict()
            md, _ = verdict.write(doc, reports_dir(config), stamp(v.finished_at))
            console.print(f"report: {md}")
            if any(c.name == "stack reachable" and not c.ok for c in v.checks):
                raise typer.Exit(EXIT_UNREACHABLE)
    if name == "all":
        doc = verdict.summary(results)
        md, _ = verdict.write(doc, reports_dir(config), stamp(time.time()))
        verdict_text = "[green]PASSED[/]" if doc["passed"] else "[red]FAILED[/]"
        console.print(f"drill all: {verdict_text}; alert precision {doc['alert_precision']:.2f},"
                      f" recall {doc['alert_recall']:.2f}"
                      f" ({doc['true_positives']} fired as expected, {doc['false_positives']} spurious,"
                      f" {doc['false_negatives']} missed)")
        console.print(f"report: {md}")
    if not all(v.passed for v in results):
        raise typer.Exit(EXIT_FAILED)


def _show(doc: dict[str, Any]) -> None:
    table = Table("check", "result", "measured", "limit", "detail",
                  title=f"drill {doc['drill']}: {'PASSED' if doc['passed'] else 'FAILED'}")
    for c in doc["checks"]:
        table.add_row(c["name"], "[green]pass[/]" if c["ok"] else "[red]FAIL[/]",
                      "—" if c["measured_s"] is None else f"{c['measured_s']:.2f}s",
                      "—" if c["limit_s"] is None else f"{c['limit_s']:.1f}s", c["detail"])
    console.print(table)
    a = doc["alerts"]
    console.print(f"alerts expected: {', '.join(a['expected']) or 'none'}; observed:"
                  f" {', '.join(a['observed']) or 'none'}; missed: {', '.join(a['missed']) or 'none'};"
                  f" spurious: {', '.join(a['spurious']) or 'none'}; precision {doc['alert_precision']:.2f},"
                  f" recall {doc['alert_recall']:.2f}")
    for note in doc["notes"]:
        console.print(f"  note: {note}", markup=False, highlight=False)
