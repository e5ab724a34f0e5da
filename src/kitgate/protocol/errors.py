"""The two error shapes on the wire, built in one place.

- `error_info`: the `error` of a job result, `{"type", "message", "line"}`: what the operator's code (or
  the worker) failed with. Capped here, so a worker and the sandbox never disagree on the caps.
- `error_body`: the body of every HTTP error the controller sends, `{"error": {"code", "message",
  "details", "request_id"}}`. This is the only thing called an "envelope" in kitgate (the error
  envelope); the signed Ed25519 token a worker receives is the "signed claim" (`protocol.claims`).
"""

from __future__ import annotations

from typing import Any

from kitgate.protocol.wire import MAX_ERROR_MESSAGE_CHARS, MAX_ERROR_TYPE_CHARS


def error_info(type_: str, message: str, line: int | None = None) -> dict[str, Any]:
    """A job result's `error`: type and message capped, `line` kept only when it is an int."""
    return {
        "type": str(type_)[:MAX_ERROR_TYPE_CHARS],
        "message": str(message)[:MAX_ERROR_MESSAGE_CHARS],
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
    }


def error_body(code: str, message: str, details: dict[str, Any] | None, request_id: str | None) -> dict[str, Any]:
    """The controller's error envelope: the one body every HTTP failure leaves in."""
    return {"error": {"code": code, "message": message, "details": details or {}, "request_id": request_id}}


def error_code(body: Any) -> str | None:
    """The `error.code` of an error envelope, or None when the body is not one."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("code"), str):
            return err["code"]
    return None


# The error type of a job a worker refused because its signed claim did not verify (status `rejected`).
# The value predates the word "signed claim" and is kept as it is: clients and dashboards match on it.
SIGNED_CLAIM_REJECTED = "EnvelopeRejected"
