"""Client-side task routes: enqueue, read, list, cancel, results."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, JSONResponse

from taskwarden import states
from taskwarden.artifacts import artifact_path, list_artifacts
from taskwarden.errors import NotFound
from taskwarden.server.schemas import TaskIn
from taskwarden.server.state import ServerState, get_state
from taskwarden.stats import success_rate
from taskwarden.store.base import QueueFull

router = APIRouter(prefix="/api", tags=["tasks"])
MAX_WAIT_S = 60.0
RECHECK_S = 0.5


def _queue_full(exc: QueueFull) -> JSONResponse:
    return JSONResponse({"error": f"queue full: {exc}"}, status_code=429,
                        headers={"Retry-After": "1"})


@router.post("/tasks", status_code=201)
async def enqueue(body: TaskIn, st: ServerState = Depends(get_state)) -> Any:
    try:
        [(task, created)] = st.store.enqueue([body.to_spec()], st.now(), st.config.server.max_queue)
    except QueueFull as exc:
        return _queue_full(exc)
    if created:
        st.work.notify()
    return JSONResponse(task.to_dict(), status_code=201 if created else 200)


@router.post("/tasks/batch", status_code=201)
async def enqueue_batch(body: list[TaskIn], st: ServerState = Depends(get_state)) -> Any:
    try:
        pairs = st.store.enqueue([t.to_spec() for t in body], st.now(), st.config.server.max_queue)
    except QueueFull as exc:
        return _queue_full(exc)
    st.work.notify()
    return {"tasks": [task.to_dict() for task, _ in pairs],
            "created": sum(1 for _, created in pairs if created)}


@router.get("/tasks/{task_id}")
async def get_task(task_id: int, wait: float = Query(0, ge=0, le=MAX_WAIT_S),
                   st: ServerState = Depends(get_state)) -> JSONResponse:
    """With ``wait``, answers as soon as the task is finished or ``wait`` seconds pass."""
    task = st.store.get(task_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while task.state not in states.FINISHED and (remaining := deadline - loop.time()) > 0:
        await st.tasks.wait(task_id, min(remaining, RECHECK_S))
        task = st.store.get(task_id)
    return JSONResponse({**task.to_dict(), "artifacts": list_artifacts(st.config.data_dir, task_id)})


@router.get("/tasks/{task_id}/artifacts/{name:path}")
async def get_artifact(task_id: int, name: str, st: ServerState = Depends(get_state)) -> FileResponse:
    """A file an action left for this task (screenshots, extracts); nothing outside its folder."""
    st.store.get(task_id)
    path = artifact_path(st.config.data_dir, task_id, name)
    if path is None:
        raise NotFound(f"task {task_id} has no artifact {name!r}")
    return FileResponse(path)


@router.get("/tasks")
async def list_tasks(status: str | None = Query(None, pattern="^(" + "|".join(states.ALL) + ")$"),
                     action: str | None = Query(None, max_length=200),
                     limit: int = Query(100, ge=1, le=10_000),
                     st: ServerState = Depends(get_state)) -> dict:
    tasks = st.store.list_tasks(status, action, limit)
    return {"tasks": [t.to_dict() for t in tasks], "count": len(tasks)}


@router.post("/tasks/{task_id}/cancel")
async def cancel(task_id: int, st: ServerState = Depends(get_state)) -> dict:
    task = st.store.cancel(task_id, st.now())
    st.finished([task])
    return task.to_dict()


@router.get("/results")
async def results(count: int = Query(20, ge=1, le=10_000),
                  st: ServerState = Depends(get_state)) -> dict:
    """The newest finished tasks and the success rate among them."""
    tasks = st.store.results(count)
    tally = {s: sum(1 for t in tasks if t.state == s) for s in states.JUDGED}
    return {"count": len(tasks), "success_rate": success_rate(tally), **tally,
            "results": [t.to_dict() for t in tasks]}
