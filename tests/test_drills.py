"""Drills against real stacks: every drill passes against ``taskwarden up --detach``, and a
drill against a stack nobody heals fails with a verdict that says what did not happen.

One stack (time scale 20, a monitor sample every 0.5 s real, a 1 s hold) is
shared by the module: ``drill all`` runs once and each drill's own test reads
its section of the report; ``drill all`` waits for a quiet stack between drills.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stackutil import FAST_ENV, SCALED_ENV, Stack, ours

from taskwarden.drills import DRILLS

#: The scaled stack, plus: a sample every 0.5 s, hold 1 s, no canary during the drills
#: (the first one runs at start).
DRILL_ENV = {**SCALED_ENV, "TASKWARDEN_MONITOR_SAMPLE_S": "10", "TASKWARDEN_MONITOR_HOLD_S": "20",
             "TASKWARDEN_MONITOR_CANARY_S": "36000"}


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, Any], str]]:
    """A stack brought up once, ``drill all`` run against it; (stack, report, CLI output)."""
    data_dir = tmp_path_factory.mktemp("drills") / "var"
    data_dir.mkdir()
    stack = Stack(data_dir, **DRILL_ENV)
    try:
        up = stack.cli("up", "--detach")
        assert up.returncode == 0, up.stdout + up.stderr
        before = json.loads((data_dir / "run" / "warden.state.json").read_text())
        result = stack.cli("drill", "all", timeout=240)
        reports = sorted((data_dir / "outputs" / "reports").glob("drill-all-*.json"))
        assert reports, result.stdout + result.stderr
        report = json.loads(reports[-1].read_text())
        after = json.loads((data_dir / "run" / "warden.state.json").read_text())
        assert after["pid"] == before["pid"], "the warden itself must survive the drills"
        yield stack, report, result.stdout + result.stderr
    finally:
        stack.cli("down", "--timeout", "15", timeout=40)
        for proc in ours(data_dir):
            proc.kill()
        stack.close()


@pytest.mark.parametrize("name", list(DRILLS))
def test_each_drill_passes_against_a_stack_started_with_up(
        drilled: tuple[Stack, dict[str, Any], str], name: str) -> None:
    _, report, output = drilled
    section = next(d for d in report["drills"] if d["drill"] == name)
    failed = [c for c in section["checks"] if not c["ok"]]
    assert section["passed"], f"{name}: {failed}\n{output}"
    assert not section["alerts"]["missed"] and not section["alerts"]["spurious"], section["alerts"]
    singles = list((drilled[0].data_dir / "outputs" / "reports").glob(f"drill-{name}-*.json"))
    assert singles and json.loads(singles[-1].read_text())["drill"] == name
    assert Path(str(singles[-1]).removesuffix(".json") + ".md").read_text().startswith(f"# Drill {name}")


def test_drill_all_reports_alert_precision_and_recall_of_at_least_095(
        drilled: tuple[Stack, dict[str, Any], str]) -> None:
    stack, report, output = drilled
    assert report["alert_precision"] >= 0.95 and report["alert_recall"] >= 0.95, report
    assert report["true_positives"] >= 4  # success_rate_low, both queue alerts, restart_limit at least
    assert "alert precision" in output and "recall" in output
    kinds = [e["kind"] for e in stack.client.events(limit=10_000, kind="drill_finished")]
    assert len(kinds) == len(DRILLS)
    workers = [w for w in stack.client.workers() if w["alive"]]
    assert len(workers) == 1 and not list((stack.data_dir / "run").glob("fault-*"))


def test_a_drill_against_a_stack_nobody_heals_fails_and_says_what_did_not_happen(tmp_path: Path) -> None:
    """Server and worker started by hand, no warden: the killed worker stays dead."""
    stack = Stack(tmp_path, **{**FAST_ENV, **DRILL_ENV})
    try:
        stack.start_server()
        stack.start_worker(0)
        result = stack.cli("drill", "crash", "--quiet-timeout", "5", timeout=120)
        out = " ".join((result.stdout + result.stderr).split())
        assert result.returncode == 1, out
        assert "FAILED" in out and "no new worker took its slot" in out, out
        report = json.loads(next((tmp_path / "outputs" / "reports").glob("drill-crash-*.json")).read_text())
        failed = [c for c in report["checks"] if not c["ok"]]
        assert failed and "is a warden healing this stack?" in failed[0]["detail"]
    finally:
        stack.close()
