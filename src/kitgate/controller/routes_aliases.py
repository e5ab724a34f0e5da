"""The seed's endpoint names, kept because existing scripts call them; each delegates to the v1 logic."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from kitgate.controller.context import AppContext
from kitgate.controller.jobs_service import Caller
from kitgate.controller.models import (
    WORKER_ID_PATTERN,
    ClaimRequest,
    ClaimResponse,
    CodeExecuteRequest,
    ErrorEnvelope,
    ExecutionResult,
    JobView,
    StatusUpdate,
)
from kitgate.controller.routes_jobs import JobId, job_response
from kitgate.controller.routes_workers import long_poll_claim

ERRORS = {s: {"model": ErrorEnvelope} for s in (401, 403, 404, 409, 413, 422, 429)}


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(tags=["seed aliases"], responses=ERRORS)
    svc = ctx.service
    submitter = ctx.caller("jobs:submit", rate="submit")
    reader = ctx.caller("jobs:read", rate="read")
    worker = ctx.caller("worker", rate="worker")

    @api.post(
        "/execute",
        response_model=JobView,
        responses={202: {"model": JobView, "description": "not finished within the wait"}},
        summary="Submit and wait for the result (default wait: KITGATE_EXECUTE_DEFAULT_WAIT_S)",
    )
    async def execute(body: CodeExecuteRequest, response: Response, caller: Caller = Depends(submitter)) -> JobView:
        wait = ctx.settings.execute_default_wait_s if body.wait_s is None else body.wait_s
        job, finished = await svc.submit(body, caller, wait)
        return job_response(response, job.view(), finished)

    @api.post("/queue", response_model=JobView, status_code=202, summary="Submit; return the task_id at once")
    async def queue(body: CodeExecuteRequest, response: Response, caller: Caller = Depends(submitter)) -> JobView:
        job, finished = await svc.submit(body, caller, None)
        return job_response(response, job.view(), finished)

    @api.get("/status/{task_id}", response_model=JobView, summary="Alias of GET /v1/jobs/{id}")
    async def status(task_id: JobId, caller: Caller = Depends(reader)) -> JobView:
        return JobView.model_validate((await svc.visible(task_id, caller)).view())

    @api.get("/last_status", response_model=JobView, summary="The caller's most recent job")
    async def last_status(caller: Caller = Depends(reader)) -> JobView:
        return JobView.model_validate((await svc.last_job(caller)).view())

    @api.get(
        "/next_code",
        response_model=ClaimResponse,
        responses={204: {"description": "no job arrived within wait_s"}},
        summary="Alias of POST /v1/workers/claim",
    )
    async def next_code(
        request: Request,
        worker_id: Annotated[str, Query(pattern=WORKER_ID_PATTERN)],
        caller: Caller = Depends(worker),
        wait_s: Annotated[float, Query(ge=0, le=600)] = 0.0,
        labels: Annotated[list[str], Query(max_length=16)] = [],  # noqa: B006 - FastAPI copies defaults
    ) -> Any:
        try:  # the same validation as the v1 body, reported as query errors
            body = ClaimRequest(worker_id=worker_id, labels=labels)
        except ValidationError as exc:
            errors = [{**e, "loc": ("query", *e.get("loc", ()))} for e in exc.errors(include_input=False)]
            raise RequestValidationError(errors) from None
        return await long_poll_claim(ctx, request, body.worker_id, body.labels, wait_s, caller)

    @api.post("/status_update", response_model=JobView, summary="Alias of POST /v1/jobs/{id}/result")
    async def status_update(body: StatusUpdate, caller: Caller = Depends(worker)) -> JobView:
        result = body.model_dump(exclude={"task_id"})
        job = await svc.report(body.task_id, ExecutionResult.model_validate(result), caller)
        return JobView.model_validate(job.view())

    return api
