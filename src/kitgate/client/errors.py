"""Typed exceptions built from the controller's one error envelope.

Callers branch on the class (``except PolicyViolation``) instead of parsing status codes; every
exception keeps the envelope's ``code``, ``message``, ``details`` and ``request_id`` so a support
request can quote the id. Nothing here ever holds the bearer token.
"""

from __future__ import annotations

from typing import Any

from kitgate.client.models import Violation


class KitgateError(Exception):
    """Base class: anything the SDK raises on purpose."""

    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        status: int | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status
        self.details: dict[str, Any] = details or {}
        self.request_id = request_id

    def __str__(self) -> str:
        rid = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{rid}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "details": self.details,
            "request_id": self.request_id,
        }


class ConnectionFailed(KitgateError):
    """The controller could not be reached (after the safe retries)."""


class ResponseTooLarge(KitgateError):
    """The controller answered with more bytes than the client accepts."""


class BadResponse(KitgateError):
    """The controller answered with something that is not the documented JSON."""


class WaitTimeout(KitgateError):
    """``wait`` gave up; the job is still live on the controller (its last view is ``.job``)."""

    def __init__(self, message: str, *, job: Any = None, progress: Any = None) -> None:
        super().__init__(message, code="wait_timeout")
        self.job = job
        self.progress = progress  # the last JobProgress seen (queue position, workers), when the controller gave one


class BadRequest(KitgateError):
    """400/413/422 other than a policy violation: the request itself is wrong."""


class AuthError(KitgateError):
    """401: missing, expired, revoked or malformed token."""

    status = 401


class TokenExpired(AuthError):
    """401 ``token_expired``: the token (or API key) was genuine but its lifetime is over; get a new one.
    Every other 401 is a plain ``AuthError``: the controller never says why else it refused."""


class ForbiddenError(KitgateError):
    """403: the token is valid but its scopes, policies or networks do not allow this."""

    status = 403


class NotFound(KitgateError):
    status = 404


class Conflict(KitgateError):
    status = 409


class PolicyViolation(KitgateError):
    """422 ``policy_violation``: the code was refused at compile time; nothing was queued."""

    status = 422

    @property
    def violations(self) -> list[Violation]:
        raw = self.details.get("violations") or []
        out: list[Violation] = []
        for item in raw[:1000]:
            try:
                out.append(Violation.model_validate(item))
            except ValueError:
                continue
        return out


class RateLimited(KitgateError):
    """429: slow down; ``retry_after`` is the server's hint in seconds (None when absent)."""

    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(KitgateError):
    """5xx: the controller failed; the request id is what to report."""


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the controller sends delta-seconds); dates and junk read as None."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


def error_from_response(status: int, body: Any, headers: dict[str, str] | None = None) -> KitgateError:
    """Map an HTTP failure to the typed exception; tolerant of bodies that are not the envelope."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = str(err.get("code") or "error")[:100]
        message = str(err.get("message") or "")[:4000]
        details = err.get("details") if isinstance(err.get("details"), dict) else {}
        request_id = err.get("request_id")
        request_id = str(request_id)[:100] if request_id else None
    else:
        code, message, details, request_id = f"http_{status}", f"HTTP {status}", {}, None
    request_id = request_id or headers.get("x-request-id")
    kw: dict[str, Any] = {"code": code, "status": status, "details": details, "request_id": request_id}
    if status == 401:
        if code == "token_expired":
            return TokenExpired(message or "the token has expired", **kw)
        return AuthError(message or "authentication required", **kw)
    if status == 403:
        return ForbiddenError(message or "forbidden", **kw)
    if status == 404:
        return NotFound(message or "not found", **kw)
    if status == 409:
        return Conflict(message or "conflict", **kw)
    if status == 429:
        return RateLimited(message or "rate limited", retry_after=parse_retry_after(headers.get("retry-after")), **kw)
    if status == 422 and (code == "policy_violation" or details.get("violations")):
        return PolicyViolation(message or "the code violates the policy", **kw)
    if 400 <= status < 500:
        return BadRequest(message or f"bad request (HTTP {status})", **kw)
    return ServerError(message or f"server error (HTTP {status})", **kw)
