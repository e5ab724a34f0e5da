"""/console/events: the console's live feed, the controller's event bus as Server-Sent Events.

Why not GET /v1/events: that route authenticates a bearer header, and a browser's EventSource can send
only cookies. This one reads the same bus (`AppContext.events`) with the same scoping: an admin
session sees every job, any other session only its own jobs' events (the bus filters by owner). A
stream ends when its session does, and a credential may hold a few at once, however many times it signed in.
"""

from __future__ import annotations

import json
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask

from kitgate.controller.console.auth import ConsoleAuth, ConsoleRefusal
from kitgate.controller.console.pages import query_int, query_param
from kitgate.controller.console.sessions import SessionStore
from kitgate.controller.context import AppContext
from kitgate.controller.domain_errors import DomainError
from kitgate.controller.events import LiveEvent
from kitgate.controller.sse import StreamSlots, event_stream, releaser

PING_S = 15.0
MAX_STREAMS_PER_CREDENTIAL = 6  # live views (tabs) one credential may hold, however many times it signed in
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _frame(ev: LiveEvent) -> dict[str, str]:
    """One event for the console's EventSource: always `event: job` (the page listens for that one name);
    a gap carries no id, so the browser's Last-Event-ID stays at the real last event."""
    message = {"event": "job", "data": json.dumps(ev.as_dict(), default=str)}
    if ev.type != "gap":
        message["id"] = str(ev.id)
    return message


def router(ctx: AppContext, auth: ConsoleAuth, sessions: SessionStore) -> APIRouter:
    api = APIRouter(prefix="/console", include_in_schema=False)
    slots = StreamSlots(MAX_STREAMS_PER_CREDENTIAL)

    @api.get("/events")
    async def events(request: Request) -> Response:
        viewer = await auth.viewer(request, ("jobs:read",), "read")
        job_id = query_param(request, "job", _JOB_ID)
        if job_id is not None:
            try:
                await ctx.service.visible(job_id, viewer.caller)
            except DomainError:
                raise ConsoleRefusal(404, f"job {job_id} does not exist, or it is not yours to see") from None
        after_id = query_int(request, "after")
        if after_id is None:
            last = request.headers.get("last-event-id", "")
            after_id = int(last) if last.isascii() and last.isdigit() and len(last) <= 18 else None
        sid = viewer.session_id
        # counted per credential, not per session: signing in again must not buy more streams (connections)
        credential = viewer.caller.credential
        if not slots.try_take(credential):
            raise ConsoleRefusal(429, f"at most {slots.per_credential} live views per credential; close a tab")
        try:
            subscription = ctx.events.subscribe(owner=None if viewer.is_admin else viewer.caller.sub,
                                                after_id=after_id, job_id=job_id)
        except BaseException:
            slots.give_back(credential)
            raise

        async def alive() -> bool:
            """The session still exists and its credential is still live; a revoked one ends the session."""
            if sessions.get(sid) is None:
                return False
            if not await ctx.security.credential_live(credential):
                sessions.drop(sid)
                return False
            return True

        release = releaser(subscription, slots, credential)
        return EventSourceResponse(event_stream(subscription, release, alive, _frame), ping=int(PING_S),
                                   send_timeout=30, background=BackgroundTask(release))

    return api
