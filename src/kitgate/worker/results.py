"""The result a worker reports, built once per job (worker -> controller trust boundary).

Why one builder: the sandbox's outcome, the worker's own verdicts (apply failed, cancelled, refused
claim, shutdown) and the timestamps only the worker knows are merged into one raw dict, and
`build_result` runs the protocol's normaliser on it exactly once, right before the result is journaled
and sent. Nothing else in the worker trims or caps a result. Plain dicts: no pydantic inside Kit.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from typing import Any

from kitgate.protocol.errors import error_info
from kitgate.protocol.results import finite, normalise_result

__all__ = ["build_result", "error_info", "outcome_fields", "safe_exception_text", "simple_result"]


def safe_exception_text(exc: BaseException) -> str:
    """Format an exception without letting a broken __str__/RecursionError escape."""
    try:
        return f"{type(exc).__name__}: {exc}"[:4000]
    except BaseException:  # noqa: BLE001 - formatting itself may fail
        try:
            return "".join(traceback.format_exception_only(type(exc), None))[:4000]
        except BaseException:  # noqa: BLE001
            return type(exc).__name__


def outcome_fields(outcome: Any) -> dict[str, Any]:
    """The sandbox's JobOutcome (or a plain dict) as a shallow dict of its raw fields: not normalised yet,
    so the runner can amend it before `build_result` normalises it once."""
    if dataclasses.is_dataclass(outcome) and not isinstance(outcome, type):
        return {f.name: getattr(outcome, f.name) for f in dataclasses.fields(outcome)}
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
    """The ExecutionResult JSON: the normalised fields plus the claim, the worker and its timestamps."""
    out = normalise_result(data)
    result: dict[str, Any] = {"status": out.pop("status"), "claim_id": claim_id, "worker_id": worker_id, **out}
    stamps = {
        "claimed_at": finite(claimed_at),
        "started_at": finite(started_at),
        "finished_at": finite(finished_at if finished_at is not None else time.time()),
    }
    timings = {k: v for k, v in result["timings"].items() if k not in stamps}
    timings.update({k: v for k, v in stamps.items() if v is not None})
    result["timings"] = timings
    return result


def simple_result(status: str, err_type: str, message: str, **kw: Any) -> dict[str, Any]:
    """A result for a job that never produced an outcome (refused, abandoned, host failure)."""
    return build_result({"status": status, "error": error_info(err_type, message)}, **kw)
