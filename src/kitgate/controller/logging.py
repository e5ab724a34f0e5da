"""Structured JSON request logs with a request id that also lands in every error envelope.

Only request metadata is logged (method, route, status, duration, client, principal): never headers,
bodies, query strings, tokens or code.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

ACCESS_LOGGER = "kitgate.access"
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_request_id: ContextVar[str | None] = ContextVar("kitgate_request_id", default=None)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def current_request_id(scope: Scope | None = None) -> str | None:
    """The id of the request being served (from the ASGI scope when given, else the context)."""
    if scope is not None:
        rid = scope.get("state", {}).get("request_id")
        if rid:
            return str(rid)
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            data.update(extra)
        if record.exc_info and record.levelno >= logging.ERROR:
            data["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, separators=(",", ":"))


def configure_logging(level: str = "info", json_logs: bool = True) -> None:
    """Install one stderr handler on the kitgate loggers (idempotent; called by `kitgate serve`)."""
    root = logging.getLogger("kitgate")
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "_kitgate", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler._kitgate = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.propagate = False


# admit(scope, receive, send) -> the receive to hand the app, or None when it answered the request itself
Admit = Callable[[Scope, Receive, Send], Awaitable[Receive | None]]


class RequestContextMiddleware:
    """The one ASGI middleware of the controller: assigns the request id, echoes it, runs `admit` (the
    security layer's header and body limits), counts and logs the request. One layer instead of three:
    each layer is another coroutine and send wrapper on every request."""

    def __init__(self, app: ASGIApp, on_done: Callable[[str, str, int, float], None] | None = None,
                 admit: Admit | None = None) -> None:
        self.app = app
        self.on_done = on_done
        self.admit = admit
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if incoming and _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        rid_bytes = rid.encode()
        _request_id.set(rid)
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid_bytes))
                message["headers"] = headers
            await send(message)

        try:
            if self.admit is not None:
                admitted = await self.admit(scope, receive, send_wrapper)
                if admitted is None:
                    return  # refused (431/413/422/400, in the envelope) or the client is gone
                receive = admitted
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            if self.on_done is not None:
                self.on_done(scope["method"], template, status, elapsed)
            if self.log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                principal = scope.get("state", {}).get("principal_sub")
                self.log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": rid,
                            "method": scope["method"],
                            "route": template,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 3),
                            "client": client[0] if client else None,
                            "principal": principal,
                        }
                    },
                )
