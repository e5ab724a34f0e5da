"""Who is looking at the console: the cookie session, the scope a page needs, and CSRF on every form.

Why its own module: the console authenticates with a cookie, not a bearer header, so it needs what a
header-only API does not: a synchronizer CSRF token on every state-changing form (compared in constant
time), an Origin check, and a login form guarded against login CSRF (a double-submit pre-session token).
Everything after the cookie is the API's own path (`SecurityLayer.authenticate_session`): the same
network, rate and scope checks, and the same audit records, as a bearer request.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request

from kitgate.controller.console.sessions import Session, SessionStore
from kitgate.controller.context import AppContext
from kitgate.controller.errors import ApiError
from kitgate.controller.jobs_service import Caller
from kitgate.controller.logging import current_request_id

COOKIE_PATH = "/console"
PRE_COOKIE_SUFFIX = "_pre"  # the login form's double-submit token
CSRF_FIELD = "csrf"


class SignInRequired(Exception):
    """No live session: pages redirect to the sign-in form, streams answer 401."""


class ConsoleRefusal(Exception):
    """A refusal shown as a console page (403, 404, 413, 429...), never a stack trace or a JSON envelope."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Viewer:
    """A signed-in console user: the Caller the services expect, plus the session (for its CSRF token)."""

    caller: Caller
    session: Session
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.caller.is_admin

    @property
    def csrf(self) -> str:
        return self.session.csrf


class ConsoleAuth:
    def __init__(self, ctx: AppContext, sessions: SessionStore) -> None:
        self.ctx = ctx
        self.sessions = sessions
        self.cookie = ctx.settings.console_cookie_name
        secure = ctx.settings.console_cookie_secure
        self.secure = bool(ctx.settings.tls_cert) if secure is None else secure

    async def viewer(self, request: Request, scopes: tuple[str, ...], rate: str) -> Viewer:
        """The signed-in caller with one of `scopes`; SignInRequired or ConsoleRefusal otherwise."""
        session_id = request.cookies.get(self.cookie, "")
        session = self.sessions.get(session_id) if session_id else None
        if session is None:
            raise SignInRequired()
        try:
            principal = await self.ctx.security.authenticate_session(request, session.principal, session.cidrs,
                                                                     scopes, rate)
        except ApiError as exc:
            if exc.status == 401:  # revoked, expired or deleted since sign-in: the session ends with it
                self.sessions.drop(session_id)
                raise SignInRequired() from None
            raise ConsoleRefusal(exc.status, exc.message, exc.headers) from None
        request.scope.setdefault("state", {})["principal_sub"] = principal.sub
        ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else None)
        caller = Caller(principal=principal, ip=ip, request_id=current_request_id(request.scope))
        return Viewer(caller, session, session_id)

    async def check_form(self, request: Request, viewer: Viewer, presented: str | None) -> None:
        """A state-changing form: same origin, and the session's CSRF token. 403 otherwise (audited)."""
        problem = origin_problem(request)
        if problem is None and not viewer.session.csrf_ok(presented):
            problem = "csrf_token_mismatch"
        if problem is not None:
            await self.ctx.security.audit.record("console.csrf_refused", actor=viewer.caller.sub,
                                                 ip=viewer.caller.ip, request_id=viewer.caller.request_id,
                                                 path=request.url.path[:200], reason=problem)
            raise ConsoleRefusal(403, "this form is out of date or did not come from the console; reload the page "
                                      "and try again")


def origin_problem(request: Request) -> str | None:
    """Where a POST came from, as the browser says it: Sec-Fetch-Site (sent by current browsers whatever the
    referrer policy) must be same-origin, and an Origin header must be this controller's own. Under our
    `Referrer-Policy: no-referrer` a browser sends `Origin: null` on form posts, so "null" passes only when
    Sec-Fetch-Site vouches for it. A client sending neither still needs the session's CSRF token."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return f"sec_fetch_site_{site[:20]}"
    origin = request.headers.get("origin")
    if origin is None:
        return None
    if origin == "null":
        return None if site == "same-origin" else "origin_null"
    if urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        return "origin_mismatch"
    return None


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())
