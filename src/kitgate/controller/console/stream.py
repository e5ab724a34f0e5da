"""/console/events: the console's live feed, the controller's event bus as Server-Sent Events.

Why not GET /v1/events: that route authenticates a bearer header, and a browser's EventSource can send
only cookies. This one reads the same bus (`AppContext.events`) with the same scoping: an admin
session sees every job, any other session only its own jobs' events (the bus filters by owner). A
stream ends when its session does, and a credential may hold a few at once, however many times it signed in.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask

from kitgate.controller.console.auth import ConsoleAuth, ConsoleRefusal
from kitgate.controller.console.pages import query_int, query_param
from kitgate.controller.console.sessions import SessionStore
from kitgate.controller.context import AppContext
from kitgate.controller.domain_errors import DomainError

PING_S = 15.0
LIVENESS_S = 1.0  # an open stream re-checks its session and credential this often (a revocation ends it)
MAX_STREAMS_PER_SESSION = 6
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def router(ctx: AppContext, auth: ConsoleAuth, sessions: SessionStore) -> APIRouter:
    api = APIRouter(prefix="/console", include_in_schema=False)
    open_streams: dict[str, int] = {}

    @api.get("/events")
    async def events(request: Request) -> Response:
        viewer = auth.viewer(request, ("jobs:read",), "read")
        job_id = query_param(request, "job", _JOB_ID)
        if job_id is not None:
            try:
                ctx.service.visible(job_id, viewer.caller)
            except DomainError:
                raise ConsoleRefusal(404, f"job {job_id} does not exist, or it is not yours to see") from None
        after_id = query_int(request, "after")
        if after_id is None:
            last = request.headers.get("last-event-id", "")
            after_id = int(last) if last.isascii() and last.isdigit() and len(last) <= 18 else None
        sid = viewer.session_id
        # counted per credential, not per session: signing in again must not buy more streams (connections)
        slot = viewer.caller.credential
        if open_streams.get(slot, 0) >= MAX_STREAMS_PER_SESSION:
            raise ConsoleRefusal(429, f"at most {MAX_STREAMS_PER_SESSION} live views per credential; close a tab")
        subscription = ctx.events.subscribe(owner=None if viewer.is_admin else viewer.caller.sub,
                                            after_id=after_id, job_id=job_id)
        open_streams[slot] = open_streams.get(slot, 0) + 1

        async def stream() -> AsyncIterator[dict[str, str]]:
            checked = time.monotonic()
            try:
                while not subscription.closed and sessions.get(sid) is not None:
                    ev = await subscription.next(timeout=LIVENESS_S)
                    if time.monotonic() - checked >= LIVENESS_S:
                        if not ctx.security.credential_live(slot):  # revoked or expired while streaming
                            sessions.drop(sid)
                            return
                        checked = time.monotonic()
                    if ev is None:
                        if subscription.closed:
                            return
                        continue  # a quiet spell: look at the session again (sse-starlette sends the pings)
                    message = {"event": "job", "data": json.dumps(ev.as_dict(), default=str)}
                    if ev.type != "gap":  # a gap keeps the client's Last-Event-ID at the real last event
                        message["id"] = str(ev.id)
                    yield message
            finally:
                release()

        released = False

        def release() -> None:
            """Give the slot back exactly once: when the stream ends, or (background task) when it never started."""
            nonlocal released
            if released:
                return
            released = True
            subscription.close()
            left = open_streams.get(slot, 1) - 1
            if left > 0:
                open_streams[slot] = left
            else:
                open_streams.pop(slot, None)

        return EventSourceResponse(stream(), ping=int(PING_S), send_timeout=30, background=BackgroundTask(release))

    return api
