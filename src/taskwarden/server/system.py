"""System routes: stats, workers, events (JSON and server-sent events), health."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from taskwarden import stats
from taskwarden.server.schemas import EventIn
from taskwarden.server.state import ServerState, get_state
from taskwarden.server.worker_api import check_token

router = APIRouter(tags=["system"])


@router.get("/api/stats")
async def get_stats(st: ServerState = Depends(get_state)) -> dict:
    return stats.snapshot(st.store, st.config, st.now())


@router.get("/api/workers")
async def get_workers(st: ServerState = Depends(get_state)) -> dict:
    now = st.now()
    rows = []
    for w in st.store.workers("worker"):
        fresh = stats.alive(w.last_heartbeat, now, st.config)
        status = w.status if (fresh or w.status == "stopped") else "stale"
        rows.append({**w.to_dict(), "status": status, "alive": fresh and w.status != "stopped",
                     "heartbeat_age_s": round(now - w.last_heartbeat, 3)})
    return {"workers": rows, "alive": sum(r["alive"] for r in rows),
            "desired": st.config.warden.workers}


@router.get("/api/events")
async def get_events(request: Request, after: int = Query(0, ge=0),
                     limit: int = Query(100, ge=1, le=10_000),
                     kind: str | None = Query(None, max_length=100),
                     st: ServerState = Depends(get_state)) -> object:
    """JSON by default; ``Accept: text/event-stream`` streams new events as SSE."""
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_stream(request, st, after, kind), media_type="text/event-stream")
    return {"events": [e.to_dict() for e in st.store.events(after, limit, kind)]}


async def _stream(request: Request, st: ServerState, after: int,
                  kind: str | None) -> AsyncIterator[str]:
    last = after
    while not await request.is_disconnected():
        for event in st.store.events(last, 500, kind):
            last = event.id
            yield f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.to_dict())}\n\n"
        await st.events.wait(1.0)
        yield ": keep-alive\n\n"
        await asyncio.sleep(0)


@router.post("/api/events", status_code=201, dependencies=[Depends(check_token)])
async def post_event(body: EventIn, st: ServerState = Depends(get_state)) -> dict:
    """For the warden and monitor, which record what they did through the API."""
    return st.event(body.kind, body.subject, **body.detail).to_dict()


@router.get("/api/health")
async def health(st: ServerState = Depends(get_state)) -> dict:
    st.store.ping()  # raises StoreError → 503 when the store is unreachable
    return {"ok": True, "store": "reachable"}
