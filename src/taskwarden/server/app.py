"""The queue server: a FastAPI app over one store.

Bad input never reaches the store and never gives a 500: malformed JSON is a
400, wrong fields a 422 naming the field, a body over the limit a 413, a full
queue a 429 with Retry-After, an unknown id a 404. Store outages are a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from taskwarden import __version__, artifacts
from taskwarden.config import Config
from taskwarden.errors import Conflict, NotFound, StoreError
from taskwarden.server import live, monitoring, system, tasks, worker_api
from taskwarden.server.limits import BodyLimit
from taskwarden.server.state import ServerState
from taskwarden.store.base import Store

log = logging.getLogger("taskwarden.server")
#: Under a large time scale the sweep still waits this long between passes (no busy loop).
MIN_SWEEP_S = 0.05
#: Worker rows silent this long (configured time) are dropped.
WORKER_ROWS_KEEP_S = 24 * 3600.0


def create_app(config: Config, store: Store) -> FastAPI:
    state = ServerState(config=config, store=store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep_expired_leases(state))
        state.event("server_started", "server", version=__version__)
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper

    app = FastAPI(title="taskwarden", version=__version__, lifespan=lifespan)
    app.state.tw = state
    app.add_middleware(BodyLimit, max_bytes=config.server.max_body_bytes)
    for router in (tasks.router, worker_api.router, system.router, monitoring.router, live.router):
        app.include_router(router)
    _add_error_handlers(app)

    return app


async def _sweep_expired_leases(state: ServerState) -> None:
    """The lease deadline is the backstop: whatever a dead worker held comes back here.

    The same loop tidies up about once an hour (time-scaled): old artifacts,
    and the rows of workers silent for a day (every worker process has an id of
    its own, so without this the table grows with every restart).
    """
    interval = max(MIN_SWEEP_S, state.config.seconds(state.config.server.lease_sweep_s))
    next_prune = 0.0
    while True:
        await asyncio.sleep(interval)
        if state.now() >= next_prune:
            next_prune = state.now() + state.config.seconds(3600)
            await _tidy(state)
        try:
            expired = state.store.requeue_expired(state.now())
        except StoreError as exc:
            log.warning("lease sweep failed: %s", exc)
            continue
        if expired:
            state.finished(expired)
            state.work.notify()
            state.event("leases_expired", "server", tasks=[t.id for t in expired],
                        dead=[t.id for t in expired if t.state == "dead"])


async def _tidy(state: ServerState) -> None:
    config = state.config
    await asyncio.to_thread(artifacts.prune, config.data_dir, config.seconds(config.actions.artifacts_keep_s))
    try:
        state.store.forget_workers(state.now() - config.seconds(WORKER_ROWS_KEEP_S))
    except StoreError as exc:
        log.warning("could not forget old worker rows: %s", exc)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"error": "malformed JSON body"}, status_code=400)
        fields = [_describe(e) for e in errors]
        return JSONResponse({"error": "; ".join(fields), "fields": fields}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store error: %s", exc)
        return JSONResponse({"error": f"store unavailable: {exc}"}, status_code=503,
                            headers={"Retry-After": "1"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))


def _describe(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    name = ".".join(loc) or "body"
    return f"{name}: {error.get('msg', 'invalid')}"
