"""The job result as it crosses into the controller: one normaliser, applied once per trust boundary.

Why one function: the result is built by code that does not trust its input (the sandbox's child, a
worker the controller has not looked at), and every cap, every fallback and every dropped field used to
be re-applied by hand at each hop, with small differences. `normalise_result` is the only place that
decides what a result may hold:

- child -> worker: the sandbox turns the child's report into a `JobOutcome` (kitgate.sandbox.executor);
  `JobOutcome.to_result_dict()` runs this function for anyone who reads an outcome directly;
- worker -> controller: the worker collects the outcome's raw fields, adds what it learned itself
  (apply errors, cancellation, apply time), and runs this function exactly once, in
  `kitgate.worker.results.build_result`, before the result goes to the journal and the wire;
- the controller then validates the same shape with its pydantic model (which forbids anything else).

Plain dicts only: this runs inside Kit, where pydantic is not promised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kitgate.protocol import render as _render
from kitgate.protocol.errors import error_info
from kitgate.protocol.status import REPORTABLE_STATUSES, JobStatus
from kitgate.protocol.wire import MAX_CHANGED_PRIMS, MAX_LIMIT_CHARS, MAX_STDOUT_CHARS, MAX_VIOLATIONS

TIMING_KEYS = ("queued_at", "claimed_at", "started_at", "finished_at", "compile_ms", "run_ms", "apply_ms")
VIOLATION_KEYS = ("line", "col", "rule", "message", "hint")
RESULT_KEYS = ("status", "stdout", "stdout_truncated", "value", "error", "changed_prims", "changed_prims_total",
               "limit", "violations", "timings", "render")


def finite(value: Any) -> float | None:
    """A timing as a float, or None for anything that is not a finite number (bools included)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def normalise_result(data: Mapping[str, Any]) -> dict[str, Any]:
    """The documented result fields only, capped: what `ExecutionResult` accepts (without the worker's ids).

    A status that a worker may not report becomes `failed`; stdout beyond the cap is cut and the cut bytes
    are added to `stdout_truncated`; violations given as objects are turned into dicts (`to_dict()`).
    """
    out: dict[str, Any] = {"status": _status(data.get("status"))}
    out["stdout"], out["stdout_truncated"] = _stdout(data.get("stdout"), data.get("stdout_truncated"))
    out["value"] = data.get("value")
    err = data.get("error")
    out["error"] = error_info(err.get("type") or "Error", err.get("message") or "", err.get("line")) \
        if isinstance(err, Mapping) else None
    given = data.get("changed_prims") or []
    given = given if isinstance(given, list) else []
    changed = [str(p) for p in given[:MAX_CHANGED_PRIMS]]
    out["changed_prims"] = changed
    total = data.get("changed_prims_total")
    valid_total = isinstance(total, int) and not isinstance(total, bool) and total >= len(changed)
    out["changed_prims_total"] = total if valid_total else len(given)  # the real count, not the capped one
    limit = data.get("limit")
    out["limit"] = str(limit)[:MAX_LIMIT_CHARS] if limit else None
    out["violations"] = _violations(data.get("violations"))
    timings = data.get("timings")
    timings = timings if isinstance(timings, Mapping) else {}
    out["timings"] = {k: v for k in TIMING_KEYS if (v := finite(timings.get(k))) is not None}
    picture = _render.normalise(data.get("render"))  # only a job that asked for a picture has one
    if picture is not None:
        out["render"] = picture
    return out


def _status(status: Any) -> str:
    return str(status) if status in REPORTABLE_STATUSES else JobStatus.failed.value


def _stdout(stdout: Any, truncated: Any) -> tuple[str, int]:
    text = "" if not stdout else stdout if isinstance(stdout, str) else str(stdout)
    cut = truncated if isinstance(truncated, int) and not isinstance(truncated, bool) else 0
    if len(text) > MAX_STDOUT_CHARS:
        cut += len(text.encode("utf-8", "replace")) - len(text[:MAX_STDOUT_CHARS].encode("utf-8", "replace"))
        text = text[:MAX_STDOUT_CHARS]
    return text, max(0, cut)


def _violations(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        return []
    out = []
    for item in items[:MAX_VIOLATIONS]:
        as_dict = item.to_dict() if hasattr(item, "to_dict") else item
        if isinstance(as_dict, Mapping):
            out.append({k: as_dict[k] for k in VIOLATION_KEYS if k in as_dict})
    return out
