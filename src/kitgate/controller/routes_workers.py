"""The worker API: long-poll claim and heartbeats (results live next to the job routes)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kitgate.controller.context import AppContext
from kitgate.controller.jobs_service import Caller
from kitgate.controller.models import (
    WORKER_ID_PATTERN,
    ClaimRequest,
    ClaimResponse,
    ErrorEnvelope,
    HeartbeatRequest,
    HeartbeatResponse,
    WorkerReleased,
)
from kitgate.controller.store import JobRecord

ERRORS = {s: {"model": ErrorEnvelope} for s in (401, 403, 422, 429)}
WorkerId = Annotated[str, Path(pattern=WORKER_ID_PATTERN)]


def claim_response(job: JobRecord, envelope: str) -> ClaimResponse:
    return ClaimResponse(
        job_id=job.id,
        claim_id=job.claim_id or "",
        code=job.code,
        policy=job.policy,
        policy_digest=job.policy_digest,
        timeout_s=job.timeout_s,
        envelope=envelope,
    )


def with_presence(worker: dict[str, Any], now: float, window_s: float) -> dict[str, Any]:
    """`presence`: stopped (it said so), silent (not seen within the claim/heartbeat window), else connected;
    the stored `state` is only the last thing the worker did, so it is never shown as its liveness."""
    silent_s = max(0.0, now - float(worker.get("last_seen") or 0.0))
    if worker.get("state") == "stopped":
        presence = "stopped"
    elif silent_s > window_s:
        presence = "silent"
    else:
        presence = "connected"
    return {**worker, "presence": presence, "last_seen_s_ago": round(silent_s, 1)}


async def _disconnected(request: Request) -> None:
    """Completes when the client hangs up (the body is already read, so the next message is the end)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def long_poll_claim(
    ctx: AppContext, request: Request, worker_id: str, labels: list[str], wait_s: float, caller: Caller,
    stage: str | None = None,
) -> Any:
    gone = asyncio.ensure_future(_disconnected(request)) if wait_s > 0 else None
    try:
        claimed = await ctx.service.claim(worker_id, labels, wait_s, caller, gone, stage=stage)
    finally:
        if gone is not None:
            gone.cancel()
    if claimed is None:
        return Response(status_code=204)
    return claim_response(*claimed)


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(prefix="/v1/workers", tags=["workers"], responses=ERRORS)
    svc = ctx.service
    worker = ctx.caller("worker", rate="worker")
    admin = ctx.caller("admin", rate="admin")

    @api.post(
        "/claim",
        response_model=ClaimResponse,
        responses={204: {"description": "no job arrived within wait_s"}},
        summary="Long-poll for the next job this worker's labels allow",
    )
    async def claim(
        request: Request,
        body: ClaimRequest,
        caller: Caller = Depends(worker),
        wait_s: Annotated[float, Query(ge=0, le=600)] = 0.0,
    ) -> Any:
        return await long_poll_claim(ctx, request, body.worker_id, body.labels, wait_s, caller, stage=body.stage)

    @api.post("/heartbeat", response_model=HeartbeatResponse, summary="Worker liveness; cancel=true means abandon")
    async def heartbeat(body: HeartbeatRequest, caller: Caller = Depends(worker)) -> HeartbeatResponse:
        return HeartbeatResponse(ok=True, cancel=svc.heartbeat(body, caller))

    @api.get("", summary="Workers seen by this controller (admin)")
    async def list_workers(caller: Caller = Depends(admin)) -> dict[str, Any]:
        return {"workers": [with_presence(w, time.time(), svc.presence_window_s()) for w in svc.workers()]}

    @api.post(
        "/{worker_id}/release",
        response_model=WorkerReleased,
        responses={404: {"model": ErrorEnvelope}},
        summary="Unbind a worker id from its credential (admin); the next credential to use it owns it",
    )
    async def release(worker_id: WorkerId, caller: Caller = Depends(admin)) -> WorkerReleased:
        return WorkerReleased(worker_id=worker_id, released=svc.release_worker(worker_id, caller))

    return api
