"""Refuse header floods (too many or too large headers) with 431 in the envelope, before any route runs.

uvicorn's h11 parser already drops a request whose *incomplete* header block passes 16 KiB, but a block
that arrives in one read is parsed whatever its size; this check makes the limit exact and answerable.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from kitgate.controller.security.bodylimit import send_envelope


def header_problem(scope: Scope, max_bytes: int, max_count: int) -> str | None:
    """Why this request's headers are refused (too many, too large), or None."""
    headers = scope.get("headers", [])
    if len(headers) > max_count:
        return f"request has {len(headers)} headers; at most {max_count} are allowed"
    size = sum(len(k) + len(v) + 4 for k, v in headers)  # "name: value\r\n"
    if size > max_bytes:
        return f"request headers are {size} bytes; at most {max_bytes} are allowed"
    return None


class HeaderLimitMiddleware:
    """`header_problem` as an ASGI layer of its own. The controller runs the check inside its one request
    middleware (logging.RequestContextMiddleware, via SecurityLayer.admit) instead."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_count: int,
                 on_refuse: Callable[[Scope, str], None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count
        self.on_refuse = on_refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = header_problem(scope, self.max_bytes, self.max_count)
            if problem is not None:
                if self.on_refuse is not None:
                    self.on_refuse(scope, problem)
                await send_envelope(scope, send, 431, "headers_too_large", problem)
                return
        await self.app(scope, receive, send)
