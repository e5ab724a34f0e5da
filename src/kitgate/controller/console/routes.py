"""The console's pages and operator forms: every read goes through JobService, every POST re-checks its scope.

Why server-rendered: no build step, nothing to vendor, and the scope check happens where the HTML is made,
so a `jobs:read` viewer never even receives an approve form. Sign-in lives in signin.py, the live feed in
stream.py.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitgate.controller.console import views
from kitgate.controller.console.auth import CSRF_FIELD, ConsoleAuth, ConsoleRefusal, Viewer
from kitgate.controller.console.pages import Pages, query_int, query_param, read_form
from kitgate.controller.console.policy_diff import BASELINE, PolicyDiff, diff_policy
from kitgate.controller.context import AppContext
from kitgate.controller.domain_errors import DomainError
from kitgate.controller.errors import ApiError
from kitgate.controller.routes_workers import with_presence
from kitgate.controller.store import JobRecord

PAGE_SIZE = 50
APPROVALS_SHOWN = 100
AUDIT_PAGE = 100
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
_POLICY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_EVENT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_PNG = b"\x89PNG\r\n\x1a\n"


def router(ctx: AppContext, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    api = APIRouter(prefix="/console", include_in_schema=False)
    svc = ctx.service
    page = pages.render

    async def reader(request: Request) -> Viewer:
        return await auth.viewer(request, ("jobs:read",), "read")

    async def admin(request: Request) -> Viewer:
        return await auth.viewer(request, ("admin",), "admin")

    def policy_diff(name: str) -> PolicyDiff | None:
        try:
            return diff_policy(svc.load_policy(name), svc.load_policy(BASELINE))
        except ApiError:  # the job's policy (or the baseline) is no longer installed
            return None

    async def visible(job_id: str, viewer: Viewer) -> JobRecord:
        if not _JOB_ID.match(job_id):
            raise ConsoleRefusal(404, "no such job")
        try:
            return await svc.visible(job_id, viewer.caller)
        except DomainError:
            raise ConsoleRefusal(404, f"job {job_id} does not exist, or it is not yours to see") from None

    async def image_state(job: JobRecord, viewer: Viewer) -> tuple[bool, str | None]:
        """(has a picture, why not) for a job that asked for one; (False, None) when it did not ask."""
        if not job.limits.get("render"):
            return False, None
        try:
            await svc.image(job.id, viewer.caller)
            return True, None
        except DomainError as exc:
            return False, exc.message

    # ---- static files -------------------------------------------------------------------------------
    @api.get("/static/{name}")
    async def static_file(name: str) -> Response:
        return pages.static.response(name)

    @api.get("")
    async def home() -> RedirectResponse:
        return RedirectResponse("/console/jobs", status_code=303)

    # ---- jobs ---------------------------------------------------------------------------------------
    @api.get("/jobs")
    async def jobs(request: Request) -> Response:
        viewer = await reader(request)
        status = request.query_params.get("status") or None
        status = status if status in views.STATUSES else None
        policy = query_param(request, "policy", _POLICY)
        owner = query_param(request, "owner", _NAME) if viewer.is_admin else None
        before = query_int(request, "cursor")
        rows = await svc.list_jobs(viewer.caller, PAGE_SIZE + 1, before, status, policy, owner)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        filters = {k: v for k, v in (("status", status), ("policy", policy), ("owner", owner)) if v}
        next_url = f"/console/jobs?{urlencode({**filters, 'cursor': rows[-1].seq})}" if more and rows else None
        return page("jobs.html", viewer, jobs=[views.job_row(j) for j in rows], statuses=views.STATUSES,
                    policies=[p.name for p in svc.usable_policies(viewer.caller)], filters=filters,
                    next_url=next_url, live=before is None)

    @api.get("/jobs/{job_id}")
    async def job_page(request: Request, job_id: str) -> Response:
        viewer = await reader(request)
        job = await visible(job_id, viewer)
        result = job.result or {}
        flagged = views.flagged_lines(result)
        after_id = ctx.events.last_id  # the page shows everything up to here; the live feed resumes after it
        output = result.get("stdout") if job.terminal else views.output_so_far(ctx.events.retained(job_id=job.id))
        progress = None
        if not job.terminal:
            with contextlib.suppress(ApiError, DomainError):
                progress = await svc.progress(job.id, viewer.caller)
        audit = [views.audit_row(r, viewer.is_admin) for r in await ctx.security.audit.for_job(job.id)]
        image, image_problem = await image_state(job, viewer)
        value = result.get("value")
        return page(
            "job.html", viewer, job=job, lines=views.code_lines(job.code, flagged), flagged=sorted(flagged.items()),
            output=output or "", after_id=after_id, value=None if value is None else views.pretty_value(value),
            changed=result.get("changed_prims") or [], changed_total=result.get("changed_prims_total"),
            error=result.get("error"), limit=result.get("limit"), timings=views.timings(job), audit=audit,
            diff=policy_diff(job.policy), progress=progress, image=image, image_problem=image_problem,
            stdout_truncated=result.get("stdout_truncated") or 0,
        )

    @api.get("/jobs/{job_id}/image")
    async def job_image(request: Request, job_id: str) -> Response:
        viewer = await reader(request)
        await visible(job_id, viewer)
        try:
            stored = await svc.image(job_id, viewer.caller)
        except DomainError as exc:
            raise ConsoleRefusal(404, exc.message) from None
        if not stored.png.startswith(_PNG):  # never serve anything but a PNG as one
            raise ConsoleRefusal(404, "this job's picture is not a PNG")
        return Response(stored.png, media_type="image/png", headers={"ETag": f'"{stored.sha256}"'})

    # ---- operator actions ---------------------------------------------------------------------------
    @api.get("/approvals")
    async def approvals(request: Request) -> Response:
        viewer = await admin(request)
        waiting = await svc.list_jobs(viewer.caller, APPROVALS_SHOWN, None, "pending_approval")
        items = [{"job": j, "row": views.job_row(j), "lines": views.code_lines(j.code, {}),
                  "diff": policy_diff(j.policy)} for j in reversed(waiting)]  # oldest first: first come
        return page("approvals.html", viewer, items=items, baseline=BASELINE)

    async def decided(request: Request, job_id: str) -> tuple[Viewer, dict[str, str]]:
        """An approve/reject POST: the admin scope again (whatever the page showed), then CSRF and origin."""
        viewer = await admin(request)
        form = await read_form(request)
        await auth.check_form(request, viewer, form.get(CSRF_FIELD))
        await visible(job_id, viewer)
        return viewer, form

    @api.post("/jobs/{job_id}/approve")
    async def approve(request: Request, job_id: str) -> Response:
        viewer, _ = await decided(request, job_id)
        try:
            await svc.approve(job_id, viewer.caller)
        except DomainError as exc:
            raise ConsoleRefusal(409, exc.message) from None
        return RedirectResponse(f"/console/jobs/{job_id}", status_code=303)

    @api.post("/jobs/{job_id}/reject")
    async def reject(request: Request, job_id: str) -> Response:
        viewer, form = await decided(request, job_id)
        reason = form.get("reason", "").strip()
        if not 1 <= len(reason) <= 1000:
            raise ConsoleRefusal(422, "a rejection needs a reason of 1 to 1000 characters")
        try:
            await svc.reject(job_id, reason, viewer.caller)
        except DomainError as exc:
            raise ConsoleRefusal(409, exc.message) from None
        return RedirectResponse(f"/console/jobs/{job_id}", status_code=303)

    # ---- workers, policies, audit -------------------------------------------------------------------
    @api.get("/workers")
    async def workers(request: Request) -> Response:
        viewer = await admin(request)
        now = time.time()
        rows = [with_presence(w, now, svc.presence_window_s()) for w in await svc.workers()]
        return page("workers.html", viewer, workers=rows, now=now)

    @api.get("/policies")
    async def policies(request: Request) -> Response:
        viewer = await reader(request)
        items = [{"policy": p.public_dict(), "diff": policy_diff(p.name)} for p in svc.usable_policies(viewer.caller)]
        return page("policies.html", viewer, items=items, baseline=BASELINE, default=ctx.settings.default_policy)

    @api.get("/audit")
    async def audit(request: Request) -> Response:
        viewer = await admin(request)
        event = query_param(request, "event", _EVENT)
        actor = query_param(request, "actor", _NAME)
        trail = ctx.security.audit
        head = await trail.head()
        since = query_int(request, "since_seq")
        filtered = bool(event or actor)
        if since is None:  # unfiltered, the newest page; filtered, from the start
            since = 0 if filtered else max(0, head["seq"] - AUDIT_PAGE)
        records = await trail.query(event=event, actor=actor, since_seq=since, limit=AUDIT_PAGE)
        chain = await trail.verify_chain()  # O(records): the backend keeps it off the event loop
        filters: dict[str, Any] = {k: v for k, v in (("event", event), ("actor", actor)) if v}
        next_url = (f"/console/audit?{urlencode({**filters, 'since_seq': records[-1]['seq']})}"
                    if len(records) == AUDIT_PAGE else None)
        earlier_url = (f"/console/audit?{urlencode({'since_seq': max(0, since - AUDIT_PAGE)})}"
                       if since > 0 and not filtered else None)
        return page("audit.html", viewer, records=[views.audit_row(r, True) for r in records], chain=chain,
                    head=head, filters=filters, next_url=next_url, earlier_url=earlier_url)

    return api
