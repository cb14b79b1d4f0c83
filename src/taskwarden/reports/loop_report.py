"""The self-maintenance ("autopoietic") report: the loop the system ran on itself.

Four parts, each answered from the store: what it **observed** (alerts,
anomalies, strays, failed canaries), what it **did** (restarts, hung
processes stopped, leases released or expired, strays stopped, canaries run),
what it **learned** (``baseline_learned`` events) and what it **advises** a
person to do. Advice is ranked by impact on the success rate: an action's
impact is the share of all judged tasks it lost, i.e. how many points the
period's success rate would gain if that action never failed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from taskwarden.reports.figures import Figures
from taskwarden.reports.render import render

#: A p95 run time at or above this share of the timeout means "the timeout is too tight".
TIGHT_TIMEOUT = 0.8
#: Workers or wardens held in less than this share of samples is worth a person's look.
HELD_SHARE = 0.99


def observed(f: Figures) -> dict[str, Any]:
    # The anomaly detector reports through an alert rule named "anomaly"; events are kept too.
    anomalies = ([e.to_dict() for e in f.events if e.kind.startswith("anomaly")]
                 + [a for a in f.alerts if a["name"].startswith("anomaly")])
    strays = [e.to_dict() for e in f.events if e.kind == "stray_worker"]
    return {"alerts": f.alerts, "alerts_by_name": dict(Counter(a["name"] for a in f.alerts)),
            "anomalies": anomalies, "strays": strays, "canary_failures": f.canary["failures"]}


def did(f: Figures) -> dict[str, Any]:
    acts = Counter(h["act"] for h in f.healing)
    restarts = Counter(h["subject"] for h in f.healing if h["act"] == "restart")
    return {"acts": dict(acts), "restarts_by_child": dict(restarts), "recoveries": len(f.recoveries),
            "canaries": {"runs": f.canary["runs"], "passed": f.canary["passed"]},
            "timeline": f.healing}


def learned(f: Figures) -> list[dict[str, Any]]:
    return [{"at": e.at, "subject": e.subject, **e.detail} for e in f.events if e.kind == "baseline_learned"]


def advise(f: Figures) -> list[dict[str, Any]]:
    """Advice, highest impact on the success rate first; operational advice after."""
    total = f.outcomes["judged"]
    advice = [_action_advice(a, total) for a in f.actions if a["failures"]]
    advice.sort(key=lambda a: (-a["impact"], a["subject"]))
    return advice + _system_advice(f)


def _action_advice(a: dict[str, Any], total: int) -> dict[str, Any]:
    cls, n = max(a["errors"].items(), key=lambda kv: (kv[1], kv[0])) if a["errors"] else ("unknown", 0)
    share = a["failures"] / a["judged"] if a["judged"] else 0.0
    head = f"action {a['action']} failed {share:.0%} ({a['failures']} of {a['judged']})"
    example = a["examples"].get(cls, "")
    if cls == "TimeoutError" and a["run_p95"] is not None and a["timeout_s"]:
        ratio = a["run_p95"] / a["timeout_s"]
        text = (f"{head} with TimeoutError; p95 run time is {ratio:.0%} of its {a['timeout_s']:g}s timeout: "
                + ("raise the timeout or fix the target" if ratio >= TIGHT_TIMEOUT
                   else "the target hangs now and then: fix the target or add a step timeout"))
    elif example.startswith("unknown action"):
        text = f"{head}: no worker knows this action ({example}): register it or fix the caller"
    elif cls == "LeaseLost":
        text = f"{head} with LeaseLost: its worker died or hung under it; see the restarts above"
    else:
        text = f"{head} with {cls} ({n} times), e.g. \"{example[:120]}\": fix the target or its params"
    return {"subject": a["action"], "impact": a["failures"] / total if total else 0.0,
            "error_class": cls, "text": text}


def _system_advice(f: Figures) -> list[dict[str, Any]]:
    out = []
    desired = next((g["desired"] for g in reversed(f.gauges) if g["desired"] is not None), 1)
    held = f.held("workers", desired)
    if held is not None and held < HELD_SHARE:
        out.append(f"workers were at the desired count ({desired}) in only {held:.0%} of samples: "
                   "read the worker logs for why they died or hung")
    wardens = f.held("wardens", 1)
    if wardens is not None and wardens < HELD_SHARE:
        out.append(f"exactly one warden ran in only {wardens:.0%} of samples: run `taskwarden ensure` "
                   "from a timer so a warden is always there, and never start a second by hand")
    queue = f.gauge_stats("ready")
    if queue["max"] is not None and queue["max"] >= f.thresholds["queue_critical"]:
        out.append(f"the queue reached {queue['max']:.0f} ready tasks (critical at "
                   f"{f.thresholds['queue_critical']:g}): add a worker or spread the enqueues")
    if f.canary["failures"]:
        out.append(f"{len(f.canary['failures'])} canary run(s) failed: the whole path (server, worker) "
                   "was broken then; check the alerts and restarts at those times")
    restart_alerts = [a for a in f.alerts if a["name"] == "restart_limit"]
    if restart_alerts:
        out.append("a component hit its restart limit: it keeps dying; read its log before anything else")
    return [{"subject": "system", "impact": None, "error_class": None, "text": t} for t in out]


def document(f: Figures) -> dict[str, Any]:
    return {"period": {"start": f.period.start, "end": f.period.end, "hours": f.hours},
            "generated_at": f.generated_at, "observed": observed(f), "did": did(f),
            "learned": learned(f), "advised": advise(f)}


def write(f: Figures, folder: Path, stem: str) -> Path:
    """``<stem>.md`` and ``<stem>.json`` in ``folder``; the Markdown's path."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = document(f)
    (folder / f"{stem}.json").write_text(json.dumps(doc, indent=2, default=str))
    path = folder / f"{stem}.md"
    path.write_text(render("loop_report.md.j2", f=f, doc=doc))
    return path
