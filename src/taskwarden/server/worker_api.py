"""Worker-side routes: lease (long-poll, batch), heartbeat, complete, fail, release.

When ``server.token`` is set these need ``Authorization: Bearer <token>``,
so a worker host on another machine cannot be impersonated by anyone on the network.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import JSONResponse

from taskwarden.server.schemas import CompleteIn, FailIn, HeartbeatIn, LeaseIn, ReleaseIn
from taskwarden.server.state import ServerState, get_state
from taskwarden.store.base import Outcome, Task, WorkerInfo

RECHECK_S = 0.5


async def check_token(authorization: str = Header(""), st: ServerState = Depends(get_state)) -> None:
    token = st.config.server.token
    if token and authorization != f"Bearer {token}":
        raise HTTPException(status_code=401, detail="worker endpoints need a valid bearer token")


router = APIRouter(prefix="/api/worker", tags=["worker"], dependencies=[Depends(check_token)])


def retry_delay_for(st: ServerState) -> Callable[[int], float]:
    """Exponential backoff with jitter, so a failing target is not hammered in lockstep."""
    base = st.config.seconds(st.config.worker.retry_base_s)
    cap = st.config.seconds(st.config.worker.retry_max_s)

    def delay(attempts: int) -> float:
        return min(cap, base * 2 ** (attempts - 1)) * random.uniform(0.5, 1.0)

    return delay


@router.post("/lease")
async def lease(body: LeaseIn, st: ServerState = Depends(get_state)) -> JSONResponse:
    recorded = _record(st, body.worker_id, body.outcomes()) if (body.results or body.failures) else []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + body.wait_s
    lease_s = st.config.liveness_seconds(st.config.worker.lease_s)
    while True:
        tasks = st.store.lease(body.worker_id, body.max, lease_s, st.now())
        remaining = deadline - loop.time()
        if tasks or remaining <= 0:
            return JSONResponse({"tasks": [t.to_dict() for t in tasks], "recorded": len(recorded)})
        await st.work.wait(min(remaining, RECHECK_S))


@router.post("/heartbeat")
async def heartbeat(body: HeartbeatIn, st: ServerState = Depends(get_state)) -> JSONResponse:
    now = st.now()
    st.store.heartbeat(WorkerInfo(**body.model_dump(exclude={"holding"})), now)
    extended = 0
    if body.role == "worker":
        deadline = now + st.config.liveness_seconds(st.config.worker.lease_s)
        extended = st.store.extend_leases(body.id, deadline, body.holding)
    return JSONResponse({"ok": True, "leases_extended": extended})


@router.post("/complete")
async def complete(body: CompleteIn, st: ServerState = Depends(get_state)) -> JSONResponse:
    done = _record(st, body.worker_id, body.outcomes())
    return JSONResponse({"recorded": len(done), "skipped": len(body.results) - len(done)})


@router.post("/fail")
async def fail(body: FailIn, st: ServerState = Depends(get_state)) -> JSONResponse:
    done = _record(st, body.worker_id, body.outcomes())
    return JSONResponse({"recorded": len(done), "skipped": len(body.failures) - len(done),
                         "states": {str(t.id): t.state for t in done}})


def _record(st: ServerState, worker_id: str, outcomes: list[Outcome]) -> list[Task]:
    """Store a worker's outcomes in one transaction; wake waiters; say what was dropped or died."""
    done = st.store.finish(worker_id, outcomes, st.now(), retry_delay_for(st))
    st.finished(done)
    _note_skipped(st, worker_id, [o.task_id for o in outcomes], done)
    for task in done:
        if task.state == "dead":
            st.event("task_dead", f"task:{task.id}", action=task.action, error=task.error_message)
    return done


def _note_skipped(st: ServerState, worker_id: str, sent: list[int], done: list[Task]) -> list[int]:
    """Reports for tasks the worker no longer holds are dropped, and said so, never recorded twice."""
    recorded = {t.id for t in done}
    skipped = [tid for tid in sent if tid not in recorded]
    if skipped:
        st.event("late_result_dropped", f"worker:{worker_id}", tasks=skipped)
    return skipped


@router.post("/release")
async def release(body: ReleaseIn, st: ServerState = Depends(get_state)) -> dict:
    released = st.store.release(body.worker_id, body.task_ids, body.count_attempt, st.now())
    st.finished(released)
    st.work.notify()
    if released:
        st.event("leases_released", f"worker:{body.worker_id}", tasks=[t.id for t in released],
                 count_attempt=body.count_attempt)
    return {"released": [t.id for t in released]}
