"""The operator console at /console: see, approve and audit what agents do, in a browser.

Why inside the controller: the console is one more client of the same JobService, security layer and
event bus, so it cannot drift from what the API allows. It adds what a browser needs and an API does
not: a cookie session (sessions.py), CSRF and Origin checks (auth.py), strict browser headers
(headers.py), server-rendered autoescaped pages (pages.py, routes.py, signin.py, templates/), and a little
JavaScript of our own for live updates (stream.py, static/console.js, text only). docs/console.md has more.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from kitgate.controller.console import routes, signin, stream
from kitgate.controller.console.auth import COOKIE_PATH, ConsoleAuth, ConsoleRefusal, SignInRequired
from kitgate.controller.console.headers import ConsoleHeaders
from kitgate.controller.console.pages import Pages, templates
from kitgate.controller.console.sessions import SessionStore
from kitgate.controller.console.static import ConsoleStatic
from kitgate.controller.context import AppContext

__all__ = ["install"]


def install(app: FastAPI, ctx: AppContext) -> None:
    """Add the console's routes, its refusal pages and its headers to `app` (when KITGATE_CONSOLE_ENABLED)."""
    if not ctx.settings.console_enabled:
        return
    sessions = SessionStore(ctx.settings.console_session_ttl_s, ctx.settings.console_max_sessions)
    auth = ConsoleAuth(ctx, sessions)
    pages = Pages(templates(), ConsoleStatic())
    app.include_router(routes.router(ctx, auth, pages))
    app.include_router(signin.router(ctx, auth, sessions, pages))
    app.include_router(stream.router(ctx, auth, sessions))

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        response: Response
        if request.url.path.startswith("/console/events"):  # EventSource: a redirect would not be followed
            response = PlainTextResponse("sign in at /console/login", status_code=401)
        else:
            response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(auth.cookie, path=COOKIE_PATH)
        return response

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConsoleRefusal)
        response = pages.render("error.html", None, exc.status, status=exc.status, message=exc.message)
        response.headers.update(exc.headers)
        return response

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(ConsoleRefusal, refused)
    app.add_middleware(ConsoleHeaders)
