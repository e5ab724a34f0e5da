"""The worker API: long-poll claim, heartbeats, and the result report that can claim the next job.

Why the report claims: a busy worker used to send two requests per job after the first (report, then
claim). `POST /v1/jobs/{id}/result?next=1` does both, so a job costs one request besides its submit; a
worker that does not ask (older ones) reports and claims separately, as before. The hot answers are
written with orjson straight from the stored record: the models below describe them for the OpenAPI
document, and nothing on the path validates what the store has just produced a second time.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kitgate.controller.context import AppContext
from kitgate.controller.errors import ApiError
from kitgate.controller.jobs_service import Caller
from kitgate.controller.models import (
    LABEL_PATTERN,
    MAX_LABELS,
    WORKER_ID_PATTERN,
    ClaimRequest,
    ClaimResponse,
    ErrorEnvelope,
    ExecutionResult,
    HeartbeatRequest,
    HeartbeatResponse,
    JobView,
    ReportAck,
    WorkerReleased,
)
from kitgate.controller.store import JobRecord
from kitgate.protocol.wire import APPROVALS_WAITING_CAP, APPROVALS_WAITING_HEADER

ERRORS = {s: {"model": ErrorEnvelope} for s in (401, 403, 422, 429)}
REPORT_ERRORS = {s: {"model": ErrorEnvelope} for s in (400, 401, 403, 404, 409, 413, 422, 429)}
APPROVALS_HEADER_DOC = {APPROVALS_WAITING_HEADER: {  # on claim answers (with next=true on a report)
    "description": f"pending_approval jobs this worker could claim once approved (a count; {APPROVALS_WAITING_CAP}"
                   " means that many or more)",
    "schema": {"type": "integer", "minimum": 0, "maximum": APPROVALS_WAITING_CAP}}}
WorkerId = Annotated[str, Path(pattern=WORKER_ID_PATTERN)]
JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_LABEL_OK = re.compile(LABEL_PATTERN)


def json_response(content: Any, status_code: int = 200) -> Response:
    """A JSON answer serialised once, by orjson (what FastAPI's response_model path would re-validate)."""
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def claim_body(job: JobRecord, envelope: str) -> dict[str, Any]:
    """The ClaimResponse JSON of a claimed job."""
    return {"job_id": job.id, "claim_id": job.claim_id or "", "code": job.code, "policy": job.policy,
            "policy_digest": job.policy_digest, "timeout_s": job.timeout_s, "envelope": envelope}


async def with_approvals_waiting(ctx: AppContext, resp: Response, labels: list[str], caller: Caller) -> Response:
    """The worker's claim answers carry how many approvals it waits on (a count, never which jobs), so its
    status window can point the operator at the console without a request of its own."""
    resp.headers[APPROVALS_WAITING_HEADER] = str(await ctx.service.approvals_waiting(labels, caller))
    return resp


def next_labels(labels: list[str]) -> list[str]:
    """The `label` query values of a report that claims: what ClaimRequest.labels allows, as a 422 otherwise."""
    if len(labels) > MAX_LABELS:
        raise ApiError(422, "too_many_labels", f"{len(labels)} labels given; at most {MAX_LABELS} allowed",
                       {"max_labels": MAX_LABELS})
    bad = [label for label in labels if not _LABEL_OK.fullmatch(label)]
    if bad:
        raise ApiError(422, "invalid_label", f"label {bad[0][:80]!r} does not match {LABEL_PATTERN}",
                       {"pattern": LABEL_PATTERN})
    return labels


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
) -> Response:
    gone = asyncio.ensure_future(_disconnected(request)) if wait_s > 0 else None
    try:
        claimed = await ctx.service.claim(worker_id, labels, wait_s, caller, gone, stage=stage)
    finally:
        if gone is not None:
            gone.cancel()
    resp = Response(status_code=204) if claimed is None else json_response(claim_body(*claimed))
    return await with_approvals_waiting(ctx, resp, labels, caller)


async def report_and_claim(
    ctx: AppContext, request: Request, job_id: str, body: ExecutionResult, caller: Caller, labels: list[str],
    stage: str | None, wait_s: float,
) -> Response:
    """Report, then claim: the ReportAck JSON (`next` null when no job came within wait_s)."""
    gone = asyncio.ensure_future(_disconnected(request)) if wait_s > 0 else None
    try:
        job, claimed = await ctx.service.report_and_claim(job_id, body, caller, labels, stage, wait_s, gone)
    finally:
        if gone is not None:
            gone.cancel()
    resp = json_response({"job_id": job.id, "status": job.status,
                          "next": claim_body(*claimed) if claimed is not None else None})
    return await with_approvals_waiting(ctx, resp, labels, caller)


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["workers"], responses=ERRORS)
    svc = ctx.service
    worker = ctx.caller("worker", rate="worker")
    admin = ctx.caller("admin", rate="admin")

    @api.post(
        "/workers/claim",
        response_model=ClaimResponse,
        responses={200: {"headers": APPROVALS_HEADER_DOC},
                   204: {"description": "no job arrived within wait_s", "headers": APPROVALS_HEADER_DOC}},
        summary="Long-poll for the next job this worker's labels allow",
    )
    async def claim(
        request: Request,
        body: ClaimRequest,
        caller: Caller = Depends(worker),
        wait_s: Annotated[float, Query(ge=0, le=600)] = 0.0,
    ) -> Any:
        return await long_poll_claim(ctx, request, body.worker_id, body.labels, wait_s, caller, stage=body.stage)

    @api.post("/workers/heartbeat", response_model=HeartbeatResponse,
              summary="Worker liveness; cancel=true means abandon")
    async def heartbeat(body: HeartbeatRequest, caller: Caller = Depends(worker)) -> Response:
        return json_response({"ok": True, "cancel": await svc.heartbeat(body, caller)})

    @api.post(
        "/jobs/{job_id}/result",
        response_model=JobView | ReportAck,
        responses={**REPORT_ERRORS, 200: {"headers": APPROVALS_HEADER_DOC}},
        summary="Report a claimed job (JobView); with next=true also claim this worker's next job (ReportAck)",
    )
    async def result(
        request: Request,
        job_id: JobId,
        body: ExecutionResult,
        caller: Caller = Depends(worker),
        claim_next: Annotated[bool, Query(alias="next", description="also claim the next job (ReportAck)")] = False,
        wait_s: Annotated[float, Query(ge=0, le=600, description="with next: how long to wait for a job")] = 0.0,
        label: Annotated[list[str] | None, Query(description="with next: the worker's labels, as for a claim")] = None,
        stage: Annotated[str | None, Query(max_length=1024, description="with next: the stage it serves")] = None,
    ) -> Response:
        if claim_next:
            return await report_and_claim(ctx, request, job_id, body, caller, next_labels(label or []), stage, wait_s)
        job = await svc.report(job_id, body, caller)
        return json_response(JobView.model_validate(job.view()).model_dump(mode="json"))

    @api.get("/workers", summary="Workers seen by this controller (admin)")
    async def list_workers(caller: Caller = Depends(admin)) -> dict[str, Any]:
        return {"workers": [with_presence(w, time.time(), svc.presence_window_s()) for w in await svc.workers()]}

    @api.post(
        "/workers/{worker_id}/release",
        response_model=WorkerReleased,
        responses={404: {"model": ErrorEnvelope}},
        summary="Unbind a worker id from its credential (admin); the next credential to use it owns it",
    )
    async def release(worker_id: WorkerId, caller: Caller = Depends(admin)) -> WorkerReleased:
        return WorkerReleased(worker_id=worker_id, released=await svc.release_worker(worker_id, caller))

    return api
