"""GET /v1/events (live job events over Server-Sent Events) and POST /v1/jobs/{id}/output (the worker's feed).

Why SSE: a watcher needs one long response that the controller can push to, which proxies, curl and
browsers (EventSource, with automatic `Last-Event-ID` reconnects) all understand; sse-starlette does the
framing, keep-alive pings and disconnect/shutdown handling. The stream is scoped by the caller's token:
a `jobs:read` credential sees only events of its own jobs, `admin` sees all, a worker credential none.
Each credential may hold a bounded number of streams at once, so watchers cannot exhaust connections.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from kitgate.controller.context import AppContext
from kitgate.controller.errors import ApiError
from kitgate.controller.events import LiveEvent
from kitgate.controller.jobs_service import Caller
from kitgate.controller.models import ErrorEnvelope, JobOutput, JobOutputAccepted
from kitgate.controller.sse import StreamSlots, event_stream, releaser

JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
EVENT_ID = r"^[0-9]{1,18}$"
RETRY_MS = 2000  # what EventSource waits before reconnecting
SEND_TIMEOUT_S = 30.0  # a client that reads nothing for this long is disconnected


def sse_event(ev: LiveEvent) -> ServerSentEvent:
    """One event on the wire: `event:` its type, `data:` its JSON, `id:` its id (never for a gap)."""
    return ServerSentEvent(
        data=json.dumps(ev.as_dict(), separators=(",", ":"), ensure_ascii=True),
        event=ev.type,
        id=None if ev.type == "gap" else str(ev.id),
    )


def router(ctx: AppContext) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["events"], responses={
        s: {"model": ErrorEnvelope} for s in (401, 403, 404, 409, 422, 429)})
    svc = ctx.service
    reader = ctx.caller("jobs:read", rate="read")
    worker = ctx.caller("worker", rate="worker")
    slots = StreamSlots(ctx.settings.event_streams_per_credential)

    @api.get(
        "/events",
        response_class=EventSourceResponse,
        responses={200: {"content": {"text/event-stream": {}},
                         "description": "Server-Sent Events: one `event:` per LiveEvent, data is its JSON"}},
        summary="Live job events (SSE): created, approval_needed, approved, rejected, claimed, started, output, "
                "requeued, finished; resume with Last-Event-ID",
    )
    async def events(
        caller: Caller = Depends(reader),
        job_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                            description="only this job's events")] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", pattern=EVENT_ID)] = None,
        after: Annotated[str | None, Query(pattern=EVENT_ID,
                                           description="resume after this event id (Last-Event-ID wins)")] = None,
    ) -> EventSourceResponse:
        if job_id is not None:
            await svc.visible(job_id, caller)  # 404 for another owner's job, exactly like GET /v1/jobs/{id}
        resume = last_event_id or after
        credential = caller.credential
        if not slots.try_take(credential):
            raise ApiError(
                429, "too_many_streams",
                f"this credential already holds {slots.per_credential} open event streams; close one "
                "(or watch several jobs on one stream without ?job_id=) before opening another",
                {"limit": slots.per_credential},
            )
        try:
            sub = ctx.events.subscribe(
                owner=None if caller.is_admin else caller.sub,
                after_id=int(resume) if resume is not None else None,
                job_id=job_id,
            )
        except BaseException:
            slots.give_back(credential)
            raise
        release = releaser(sub, slots, credential)
        return EventSourceResponse(
            event_stream(sub, release, lambda: ctx.security.credential_live(credential), sse_event,
                         first=ServerSentEvent(retry=RETRY_MS, comment="kitgate live events")),
            ping=ctx.settings.event_heartbeat_s,
            send_timeout=SEND_TIMEOUT_S,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            background=BackgroundTask(release),
        )

    @api.post(
        "/jobs/{job_id}/output",
        response_model=JobOutputAccepted,
        tags=["workers"],
        summary="Live output of a claimed job (worker): printed text chunks and the started marker",
    )
    async def output(job_id: JobId, body: JobOutput, caller: Caller = Depends(worker)) -> JobOutputAccepted:
        return JobOutputAccepted.model_validate(await svc.relay_output(job_id, body, caller))

    return api
