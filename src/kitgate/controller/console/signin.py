"""Sign-in and sign-out: a pasted token becomes a server-side session behind an opaque cookie.

Why its own router: this is the console's one unauthenticated form, so it carries the defences the
others get from the session. It is rate-limited per client address before the body is read, bounded in
size and type, and guarded against login CSRF by a double-submit token (the `_pre` cookie and a hidden
field). Every outcome is audited, and the credential itself is never logged.
"""

from __future__ import annotations

import re
import secrets
import time

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitgate.controller.console.auth import (
    COOKIE_PATH,
    CSRF_FIELD,
    PRE_COOKIE_SUFFIX,
    ConsoleAuth,
    ConsoleRefusal,
    origin_problem,
    tokens_equal,
)
from kitgate.controller.console.pages import Pages, read_form
from kitgate.controller.console.sessions import SessionStore
from kitgate.controller.context import AppContext
from kitgate.controller.errors import ApiError
from kitgate.controller.security.tokens import AuthFailure

_CREDENTIAL = re.compile(r"^[A-Za-z0-9_\-.]{1,4096}$")  # what a bearer header may carry
PRE_TOKEN_TTL_S = 900


def router(ctx: AppContext, auth: ConsoleAuth, sessions: SessionStore, pages: Pages) -> APIRouter:
    api = APIRouter(prefix="/console", include_in_schema=False)
    audit = ctx.security.audit

    def form_page(error: str | None, status: int) -> Response:
        pre = secrets.token_urlsafe(24)
        response = pages.render("login.html", None, status, pre=pre, error=error)
        response.set_cookie(auth.cookie + PRE_COOKIE_SUFFIX, pre, max_age=PRE_TOKEN_TTL_S, path=COOKIE_PATH,
                            httponly=True, samesite="strict", secure=auth.secure)
        return response

    @api.get("/login")
    async def login_form() -> Response:
        return form_page(None, 200)

    @api.post("/login")
    async def login(request: Request) -> Response:
        ip = ctx.security.client_ip(request) or "unknown"
        verdict = await ctx.security.rates.hit("signin", ip)
        if not verdict.allowed:
            raise ConsoleRefusal(429, f"too many sign-in attempts; try again in {verdict.retry_after_s} s",
                                 {"Retry-After": str(verdict.retry_after_s)})
        form = await read_form(request)
        problem = origin_problem(request)
        if problem is None and not tokens_equal(form.get("pre"), request.cookies.get(auth.cookie + PRE_COOKIE_SUFFIX)):
            problem = "login_token_mismatch"
        if problem is not None:
            await audit.record("console.csrf_refused", ip=ip, path="/console/login", reason=problem)
            return form_page("The sign-in form expired or came from elsewhere. Please try again.", 403)
        secret = form.get("token", "").strip()
        if secret.lower().startswith("bearer "):
            secret = secret[7:].strip()
        try:
            if not _CREDENTIAL.match(secret):
                raise AuthFailure("malformed" if secret else "missing")
            principal, cidrs, expires_at = await ctx.security.verify_secret(secret)
        except AuthFailure as failure:
            await audit.record("auth.failed", ip=ip, path="/console/login", method="POST", reason=failure.reason)
            message = ("That token has expired: create a new one with `kitgate token create`." if failure.expired
                       else "That token was not accepted. Paste a kitgate token or API key with jobs:read or admin.")
            return form_page(message, 401)
        if not principal.has("jobs:read"):  # admin implies it; a worker credential never signs in
            await audit.record("auth.denied_scope", actor=principal.sub, ip=ip, path="/console/login",
                               token_id=principal.token_id, needed=["jobs:read"])
            return form_page("That credential lacks the jobs:read scope the console needs "
                             "(worker tokens cannot sign in).", 403)
        session_id, session = sessions.create(principal, cidrs, expires_at)
        try:  # the allow-list and the credential's own networks apply from the first page on
            await ctx.security.authenticate_session(request, principal, cidrs, ("jobs:read",), "read")
        except ApiError as exc:
            sessions.drop(session_id)
            return form_page(exc.message, exc.status)
        await audit.record("console.signed_in", actor=principal.sub, ip=ip, token_id=principal.token_id,
                           kind=principal.kind, expires_at=round(session.expires_at))
        response = RedirectResponse("/console/jobs", status_code=303)
        response.set_cookie(auth.cookie, session_id, max_age=max(1, int(session.expires_at - time.time())),
                            path=COOKIE_PATH, httponly=True, samesite="strict", secure=auth.secure)
        response.delete_cookie(auth.cookie + PRE_COOKIE_SUFFIX, path=COOKIE_PATH, httponly=True,
                               samesite="strict", secure=auth.secure)
        return response

    @api.post("/logout")
    async def logout(request: Request) -> Response:
        viewer = await auth.viewer(request, ("jobs:read",), "read")
        form = await read_form(request)
        await auth.check_form(request, viewer, form.get(CSRF_FIELD))
        sessions.drop(viewer.session_id)
        await audit.record("console.signed_out", actor=viewer.caller.sub, ip=viewer.caller.ip,
                           request_id=viewer.caller.request_id)
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(auth.cookie, path=COOKIE_PATH, httponly=True, samesite="strict", secure=auth.secure)
        return response

    return api
