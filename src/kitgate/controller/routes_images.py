"""GET /v1/jobs/{id}/image: the PNG a job asked for with `render: {camera?, width, height}`.

Why a module of its own: it is the one route that answers with bytes instead of JSON, so its headers
(image/png, nosniff, private caching, an ETag from the stored hash) are decided here once. Visibility is
the job's own (`JobService.image` -> `visible`): another owner's job and a missing picture are both a 404
error envelope, the latter with the reason and a hint.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from kitgate.controller.context import AppContext
from kitgate.controller.jobs_service import Caller
from kitgate.controller.models import ErrorEnvelope

JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PNG_RESPONSE = {200: {"content": {"image/png": {}}, "description": "the job's picture"}}
ERRORS = {s: {"model": ErrorEnvelope} for s in (401, 403, 404, 429)}


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["jobs"], responses=ERRORS)
    svc = ctx.service
    reader = ctx.caller("jobs:read", rate="read")

    @api.get("/jobs/{job_id}/image", response_class=Response, responses=PNG_RESPONSE,
             summary="The PNG the job asked for with render (404 with the reason when there is none)")
    async def image(job_id: JobId, request: Request, caller: Caller = Depends(reader)) -> Response:
        stored = await svc.image(job_id, caller)
        etag = f'"{stored.sha256}"'
        headers = {
            "Cache-Control": "private, max-age=3600",  # a job's picture never changes once stored
            "ETag": etag,
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{stored.job_id}.png"',
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(content=stored.png, media_type="image/png", headers=headers)

    return api
