"""The one error envelope every failure leaves the controller in."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raise anywhere in the controller; the handler turns it into the envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def envelope(code: str, message: str, details: dict[str, Any] | None, request_id: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}, "request_id": request_id}}
