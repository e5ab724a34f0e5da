"""Builds the `ExecutionResult` JSON a worker reports (plain dicts: no pydantic inside Kit).

Why a whitelist: the controller model forbids unknown fields, so whatever the sandbox's outcome
carries is trimmed to the documented fields and size limits before it goes on the wire or to disk.
"""

from __future__ import annotations

import math
import time
import traceback
from typing import Any

REPORTABLE = frozenset({"succeeded", "failed", "timed_out", "rejected"})
MAX_STDOUT_CHARS = 4_000_000
MAX_CHANGED = 10_000
_TIMING_KEYS = ("queued_at", "claimed_at", "started_at", "finished_at", "compile_ms", "run_ms", "apply_ms")


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def error_info(type_: str, message: str, line: int | None = None) -> dict[str, Any]:
    return {"type": str(type_)[:200], "message": str(message)[:4000], "line": line}


def safe_exception_text(exc: BaseException) -> str:
    """Format an exception without letting a broken __str__/RecursionError escape (facts §11.7)."""
    try:
        return f"{type(exc).__name__}: {exc}"[:4000]
    except BaseException:  # noqa: BLE001 - formatting itself may fail
        try:
            return "".join(traceback.format_exception_only(type(exc), None))[:4000]
        except BaseException:  # noqa: BLE001
            return type(exc).__name__


def outcome_dict(outcome: Any) -> dict[str, Any]:
    """The sandbox JobOutcome as a dict (prefers its own to_result_dict())."""
    if hasattr(outcome, "to_result_dict"):
        data = outcome.to_result_dict()
        if isinstance(data, dict):
            return dict(data)
    if isinstance(outcome, dict):
        return dict(outcome)
    raise TypeError(f"cannot report a {type(outcome).__name__}")


def build_result(
    data: dict[str, Any],
    *,
    claim_id: str,
    worker_id: str,
    claimed_at: float | None,
    started_at: float | None,
    finished_at: float | None = None,
) -> dict[str, Any]:
    """Normalize to the ExecutionResult schema: documented keys only, capped sizes."""
    status = data.get("status")
    if status not in REPORTABLE:
        status = "failed"
    out: dict[str, Any] = {"status": status, "claim_id": claim_id, "worker_id": worker_id}
    stdout = data.get("stdout") or ""
    if not isinstance(stdout, str):
        stdout = str(stdout)
    cut = int(data.get("stdout_truncated") or 0) if isinstance(data.get("stdout_truncated"), int) else 0
    if len(stdout) > MAX_STDOUT_CHARS:
        cut += len(stdout.encode()) - len(stdout[:MAX_STDOUT_CHARS].encode())
        stdout = stdout[:MAX_STDOUT_CHARS]
    out["stdout"] = stdout
    out["stdout_truncated"] = max(0, cut)
    out["value"] = data.get("value")
    err = data.get("error")
    if isinstance(err, dict):
        line = err.get("line")
        out["error"] = error_info(
            err.get("type") or "Error", err.get("message") or "", line if isinstance(line, int) else None
        )
    else:
        out["error"] = None
    changed = data.get("changed_prims") or []
    changed = [str(p) for p in changed][:MAX_CHANGED] if isinstance(changed, list) else []
    out["changed_prims"] = changed
    total = data.get("changed_prims_total")
    out["changed_prims_total"] = total if isinstance(total, int) and total >= len(changed) else len(changed)
    limit = data.get("limit")
    out["limit"] = str(limit)[:64] if limit else None
    violations = data.get("violations") or []
    out["violations"] = [v for v in violations if isinstance(v, dict)][:1000] if isinstance(violations, list) else []
    timings = data.get("timings") if isinstance(data.get("timings"), dict) else {}
    merged = {k: _num(timings.get(k)) for k in _TIMING_KEYS}
    merged["claimed_at"] = _num(claimed_at)
    merged["started_at"] = _num(started_at)
    merged["finished_at"] = _num(finished_at if finished_at is not None else time.time())
    out["timings"] = {k: v for k, v in merged.items() if v is not None}
    return out


def simple_result(status: str, err_type: str, message: str, **kw: Any) -> dict[str, Any]:
    """A result for a job that never produced an outcome (refused, abandoned, host failure)."""
    return build_result({"status": status, "error": error_info(err_type, message)}, **kw)
