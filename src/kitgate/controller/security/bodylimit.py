"""Refuse oversized request bodies, and JSON bodies of a dangerous shape, before the application reads them.

Size is a 413, shape (too deep, too many containers, too long an integer) a 422, both in the one error
envelope. This is the one place every request body passes through, so no route can forget either check.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kitgate.controller.errors import envelope
from kitgate.controller.security.jsonshape import ShapeLimits, check_json_shape


async def send_envelope(scope: Scope, send: Send, status: int, code: str, message: str,
                        headers: list[tuple[bytes, bytes]] | None = None,
                        details: dict[str, Any] | None = None) -> None:
    """Answer from middleware, before the app: the one envelope, and close the connection."""
    state: dict[str, Any] = scope.get("state") or {}
    body = json.dumps(envelope(code, message, details, state.get("request_id"))).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def parsed_as_json(scope: Scope) -> bool:
    """Bodies FastAPI may parse as JSON: `application/json`, `application/*+json`, or no content type."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))
    return True


async def read_limited_body(scope: Scope, receive: Receive, send: Send, max_bytes: int,
                            shape: ShapeLimits | None) -> Receive | None:
    """Read the whole body within `max_bytes` (Content-Length up front, streamed bytes counted so chunked
    bodies cannot slip past), measure a JSON body's shape (iteratively, see jsonshape.py), and return a
    `receive` that replays it to the app; None when the request was answered (413/422/400) or is gone."""
    declared = None
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                await send_envelope(scope, send, 400, "bad_request", "Content-Length is not a number")
                return None
    if declared is not None and declared > max_bytes:
        await send_envelope(scope, send, 413, "payload_too_large",
                            f"request body of {declared} bytes exceeds the limit of {max_bytes} bytes",
                            details={"limit_bytes": max_bytes})
        return None
    # Buffer at most max_bytes; anything beyond is refused before the app sees a byte of it.
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body = message.get("body", b"")
        size += len(body)
        if size > max_bytes:
            await send_envelope(scope, send, 413, "payload_too_large",
                                f"request body exceeds the limit of {max_bytes} bytes",
                                details={"limit_bytes": max_bytes})
            return None
        chunks.append(body)
        more = message.get("more_body", False)
    payload = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if payload and shape is not None and parsed_as_json(scope):
        problem = check_json_shape(payload, shape)
        if problem is not None:
            await send_envelope(scope, send, 422, problem.code, problem.message, details=problem.details)
            return None
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        return await receive()

    return replay


class BodyLimitMiddleware:
    """`read_limited_body` as an ASGI layer of its own. The controller runs the check inside its one
    request middleware (logging.RequestContextMiddleware, via SecurityLayer.admit) instead."""

    def __init__(self, app: ASGIApp, max_bytes: int, shape: ShapeLimits | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.shape = shape

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replay = await read_limited_body(scope, receive, send, self.max_bytes, self.shape)
        if replay is not None:
            await self.app(scope, replay, send)
