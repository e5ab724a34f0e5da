"""Turn every failure into the one envelope: {"error": {code, message, details, request_id}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kitgate.controller.domain_errors import (
    AlreadyReported,
    ClaimLost,
    DomainError,
    IdempotencyConflict,
    ImageNotFound,
    InvalidTransition,
    JobNotFound,
    NotClaimed,
    WorkerIdTaken,
    WorkerNotFound,
)
from kitgate.controller.errors import ApiError, envelope
from kitgate.controller.logging import current_request_id

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}
_MAX_ERRORS = 20

# The one place where a domain refusal gets its HTTP status (the code and message come with the error).
DOMAIN_STATUS: dict[type[DomainError], int] = {
    JobNotFound: 404,
    ImageNotFound: 404,  # the job is visible but has no picture (the message says why)
    WorkerNotFound: 404,
    WorkerIdTaken: 403,  # the id belongs to another live credential: not yours to use
    NotClaimed: 409,
    AlreadyReported: 409,
    ClaimLost: 409,
    InvalidTransition: 409,
    IdempotencyConflict: 409,
}


def domain_status(exc: DomainError) -> int:
    """The status of the nearest mapped class; an unmapped refusal is a conflict with the job's state."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 409


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    rid = current_request_id(request.scope)
    out = dict(headers or {})
    if rid:
        out["X-Request-ID"] = rid
    return JSONResponse(envelope(code, message, details, rid), status_code=status, headers=out)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def validation_details(exc: RequestValidationError) -> tuple[str, str, dict[str, Any]]:
    """Field locations and reasons, never the offending input (it may be huge or secret)."""
    errors = list(exc.errors())
    for err in errors:
        if err.get("type") == "json_invalid":
            loc = list(err.get("loc", ()))
            pos = loc[-1] if loc and isinstance(loc[-1], int) else None
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            where = f" at character {pos}" if pos is not None else ""
            return "malformed_json", f"request body is not valid JSON{where}: {reason}", {"position": pos}
    items = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))[:300], "type": str(e.get("type", ""))}
        for e in errors[:_MAX_ERRORS]
    ]
    if items:
        first = items[0]
        message = f"{_loc(first['loc'])}: {first['msg']}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
    else:
        message = "request is invalid"
    return "validation_error", message, {"errors": items}


def install_error_handlers(app: FastAPI) -> None:
    log = logging.getLogger("kitgate.errors")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _respond(request, exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return _respond(request, domain_status(exc), exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message, details = validation_details(exc)
        return _respond(request, 422, code, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "http_error")
        if exc.status_code == 404:
            message = f"no such resource: {request.method} {request.url.path[:200]}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path[:200]}"
        else:
            message = str(exc.detail)[:300] if isinstance(exc.detail, str) else code.replace("_", " ")
        return _respond(request, exc.status_code, code, message, None, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        rid = current_request_id(request.scope)
        log.error(
            "unhandled error", exc_info=exc, extra={"fields": {"request_id": rid, "exc_type": type(exc).__name__}}
        )
        return _respond(request, 500, "internal_error", "internal error; quote the request_id when reporting it", None)
