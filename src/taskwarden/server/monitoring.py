"""Monitoring routes: ``GET /metrics`` (Prometheus) and ``GET /api/alerts``.

The monitor process writes samples and alerts into the store; these routes
only read, so any server replica answers the same.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from taskwarden import metrics
from taskwarden.server.state import ServerState, get_state

router = APIRouter(tags=["monitoring"])


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request, st: ServerState = Depends(get_state)) -> Response:
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = request.app.state.metrics_registry = metrics.registry_for(st.store, st.config, st.now)
    # A scrape runs several store queries; off the event loop, so leases and long polls go on.
    body = await asyncio.to_thread(metrics.exposition, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/api/alerts")
async def get_alerts(hours: float = Query(24.0, gt=0, le=24 * 365),
                     limit: int = Query(100, ge=1, le=10_000),
                     st: ServerState = Depends(get_state)) -> dict:
    """Active alerts (pending and firing, whenever they started) and those resolved recently.

    ``hours`` is in configured time, so it shrinks with the time scale like every window.
    """
    since = st.now() - st.config.seconds(hours * 3600)
    active = st.store.alerts(active=True, limit=limit)
    recent = st.store.alerts(active=False, since=since, limit=limit)
    return {"active": [a.to_dict() for a in active], "recent": [a.to_dict() for a in recent],
            "firing": sorted({a.name for a in active if a.state == "firing"})}
