"""The live page at ``GET /``: status, queue, success rates, alerts, results, live charts.

Everything the page needs is served here, never from a CDN: the HTML (inline
CSS and JS), plotly.js from the installed ``plotly`` package at
``/assets/plotly.min.js``, and ``/api/components`` (every process by role, so
the page can show the warden and the monitor too). The page then keeps itself
current without reloading: it listens to ``/api/events`` as server-sent
events and fetches ``/api/stats``, ``/api/results`` and ``/api/alerts``
periodically and whenever an event says something changed.

Task data is untrusted (a task may be named ``<script>alert(1)</script>``):
the template autoescapes, the initial JSON goes through ``tojson`` (which
escapes ``<``), and the page's JS writes only with ``textContent``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from taskwarden import stats
from taskwarden.reports.data import REPORT_EVENTS, Period, ReportData
from taskwarden.reports.figures import gauge, thresholds_in_force
from taskwarden.reports.render import render
from taskwarden.server.state import ServerState, get_state

router = APIRouter()
#: Configured seconds of sample history drawn when the page opens.
HISTORY_S = 3600.0
#: Event kinds the page listens for (SSE names each event after its kind).
LIVE_EVENTS = (*REPORT_EVENTS, "task_dead", "late_result_dropped", "process_state")


@router.get("/", include_in_schema=False)
async def live_page(st: ServerState = Depends(get_state)) -> HTMLResponse:
    page = await asyncio.to_thread(_render, st)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def _render(st: ServerState) -> str:
    now, config = st.now(), st.config
    data = ReportData(st.store)
    history = [gauge(at, s) for at, s in data.samples("sample", Period(now - config.seconds(HISTORY_S), now))]
    boot = {"last_event_id": data.last_event_id(), "history": history,
            "kinds": sorted(set(LIVE_EVENTS)), "refresh_ms": 3000, "thresholds": thresholds_in_force(config)}
    return render("live.html.j2", boot=boot, time_scale=config.time_scale)


@router.get("/assets/plotly.min.js", include_in_schema=False)
async def plotly_js() -> Response:
    from taskwarden.reports.dashboard import plotly_js as source

    body = await asyncio.to_thread(source)
    return Response(body, media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/api/components", tags=["system"])
async def components(st: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Every known process by role (warden, monitor, worker) with its liveness right now."""
    now = st.now()
    rows = []
    for w in st.store.workers(None):
        fresh = stats.alive(w.last_heartbeat, now, st.config) and w.status != "stopped"
        rows.append({"role": w.role, "id": w.id, "pid": w.pid, "host": w.host, "slot": w.slot,
                     "status": w.status if fresh or w.status == "stopped" else "stale", "alive": fresh,
                     "heartbeat_age_s": round(now - w.last_heartbeat, 3)})
    return {"components": rows, "desired_workers": st.config.warden.workers}
