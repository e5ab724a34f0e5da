"""Refuse header floods (too many or too large headers) with 431 in the envelope, before any route runs.

uvicorn's h11 parser already drops a request whose *incomplete* header block passes 16 KiB, but a block
that arrives in one read is parsed whatever its size; this check makes the limit exact and answerable.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from kitgate.controller.security.bodylimit import send_envelope


class HeaderLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, max_count: int,
                 on_refuse: Callable[[Scope, str], None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count
        self.on_refuse = on_refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            size = sum(len(k) + len(v) + 4 for k, v in headers)  # "name: value\r\n"
            problem = None
            if len(headers) > self.max_count:
                problem = f"request has {len(headers)} headers; at most {self.max_count} are allowed"
            elif size > self.max_bytes:
                problem = f"request headers are {size} bytes; at most {self.max_bytes} are allowed"
            if problem is not None:
                if self.on_refuse is not None:
                    self.on_refuse(scope, problem)
                await send_envelope(scope, send, 431, "headers_too_large", problem)
                return
        await self.app(scope, receive, send)
