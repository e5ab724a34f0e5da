"""/v1/validate and /v1/jobs: what operators, CI and agents call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from kitgate.controller.context import AppContext
from kitgate.controller.errors import ApiError
from kitgate.controller.jobs_service import Caller
from kitgate.controller.models import (
    CodeExecuteRequest,
    ErrorEnvelope,
    ExecutionStatus,
    JobCode,
    JobList,
    JobProgress,
    JobView,
    RejectRequest,
    ValidateRequest,
    ValidateResponse,
)

JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ERRORS = {s: {"model": ErrorEnvelope} for s in (400, 401, 403, 404, 409, 413, 422, 429)}


def job_response(response: Response, job_view: dict, finished: bool) -> JobView:
    response.status_code = 200 if finished else 202
    return JobView.model_validate(job_view)


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["jobs"], responses=ERRORS)
    svc = ctx.service
    submitter = ctx.caller("jobs:submit", rate="submit")
    reader = ctx.caller("jobs:read", rate="read")
    admin = ctx.caller("admin", rate="admin")

    @api.post("/validate", response_model=ValidateResponse, summary="Compile under a policy; queue nothing")
    async def validate(body: ValidateRequest, caller: Caller = Depends(submitter)) -> ValidateResponse:
        policy = await svc.policy_for(caller, body.policy)
        svc.check_size(body.code, policy)
        result = await svc.compile(body.code, policy)
        await ctx.security.audit.record(
            "code_validated", actor=caller.sub, ip=caller.ip, request_id=caller.request_id, policy=policy.name,
            code_sha256=result.code_sha256, ok=result.ok, violations=len(result.violations),
        )
        return ValidateResponse(
            ok=result.ok,
            policy=policy.name,
            policy_digest=result.policy_digest,
            code_sha256=result.code_sha256,
            violations=[v.to_dict() for v in result.violations],
        )

    @api.post(
        "/jobs",
        response_model=JobView,
        status_code=202,
        responses={200: {"model": JobView, "description": "finished within wait_s"}},
        summary="Submit a job (202), or wait up to wait_s for its result (200)",
    )
    async def submit(body: CodeExecuteRequest, response: Response, caller: Caller = Depends(submitter)) -> JobView:
        job, finished = await svc.submit(body, caller, body.wait_s)
        return job_response(response, job.view(), finished)

    @api.get("/jobs", response_model=JobList, summary="The caller's jobs (admin: all), newest first")
    async def list_jobs(
        caller: Caller = Depends(reader),
        limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
        cursor: Annotated[
            str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the previous page")
        ] = None,
        status: ExecutionStatus | None = None,
        everyone: Annotated[bool, Query(alias="all", description="admin only: every owner's jobs")] = False,
    ) -> JobList:
        if everyone and not caller.is_admin:
            raise ApiError(403, "forbidden", "all=true needs the admin scope")
        limit = min(limit, ctx.settings.list_limit_max)
        jobs = await svc.list_jobs(caller, limit + 1, int(cursor) if cursor else None, status.value if status else None)
        more = len(jobs) > limit
        jobs = jobs[:limit]
        return JobList(
            jobs=[JobView.model_validate(j.view()) for j in jobs],
            next_cursor=str(jobs[-1].seq) if more and jobs else None,
        )

    @api.get("/jobs/{job_id}", response_model=JobView, summary="One job")
    async def get_job(
        job_id: JobId,
        caller: Caller = Depends(reader),
        wait_s: Annotated[float | None, Query(ge=0, le=600)] = None,
    ) -> JobView:
        job = await svc.visible(job_id, caller)
        if wait_s and not job.terminal:
            job = await svc.wait(job_id, min(wait_s, ctx.settings.max_wait_s))
        return JobView.model_validate(job.view())

    @api.post("/jobs/{job_id}/cancel", response_model=JobView, summary="Cancel a queued or pending job")
    async def cancel(job_id: JobId, caller: Caller = Depends(submitter)) -> JobView:
        return JobView.model_validate((await svc.cancel(job_id, caller)).view())

    @api.post("/jobs/{job_id}/approve", response_model=JobView, summary="Release a job awaiting approval")
    async def approve(job_id: JobId, caller: Caller = Depends(admin)) -> JobView:
        return JobView.model_validate((await svc.approve(job_id, caller)).view())

    @api.post("/jobs/{job_id}/reject", response_model=JobView,
              summary="Refuse a queued or pending job (admin): it ends `rejected`, error type rejected_by_operator")
    async def reject(job_id: JobId, body: RejectRequest, caller: Caller = Depends(admin)) -> JobView:
        return JobView.model_validate((await svc.reject(job_id, body.reason, caller)).view())

    @api.get("/jobs/{job_id}/progress", response_model=JobProgress,
             summary="Queue position, connected/matching workers, or the running worker and elapsed time")
    async def progress(job_id: JobId, caller: Caller = Depends(reader)) -> JobProgress:
        return JobProgress.model_validate(await svc.progress(job_id, caller))

    @api.get("/jobs/{job_id}/code", response_model=JobCode, summary="The job's source code (owner or admin)")
    async def code(job_id: JobId, caller: Caller = Depends(reader)) -> JobCode:
        job = await svc.visible(job_id, caller)
        return JobCode(job_id=job.id, code=job.code, code_sha256=job.code_sha256)

    # POST /jobs/{job_id}/result (a worker's report, and its next claim) is in routes_workers

    return api
