"""Compact, model-friendly renderings of jobs, violations and errors.

LLM tools pay for every token they read, and models fix code best from short, structured text:
status first, then output (cut with a note saying how much), value, changed prims (capped, with the
total), or each violation as ``line L, col C [rule]: message`` plus its hint. The same text is
what the LangChain tools and the MCP server return, so the README documents one shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kitgate.client.errors import ConnectionFailed, KitgateError, PolicyViolation
from kitgate.client.models import JobProgress, JobView, ValidateResponse, Violation
from kitgate.protocol.status import JobStatus

MAX_OUTPUT_CHARS = 2000
MAX_VALUE_CHARS = 2000
MAX_PRIMS = 20
MAX_VIOLATIONS = 10
MAX_FIELD_CHARS = 300
MAX_HINT_CHARS = 700  # the hint is what a model rewrites its script from: cut it last


NOT_FINISHED = {
    JobStatus.pending_approval: "waiting for approval by an operator (`kitgate jobs approve ID`)",
    JobStatus.queued: "queued: no worker has taken it yet",
    JobStatus.running: "running on a worker",
}


def describe_progress(job: JobView, progress: JobProgress | None, running_s: float | None = None) -> str:
    """One line on what a job is waiting for: queue position and workers, approval, or worker and time."""
    if job.status is JobStatus.pending_approval:
        return "waiting for approval by an operator"
    if job.status is JobStatus.running:
        worker = (progress.worker_id if progress else None) or job.worker_id or "a worker"
        seconds = running_s if running_s is not None else (progress.running_s if progress else None)
        return f"running on {worker}" + (f" for {seconds:.0f} s" if seconds is not None else "")
    if job.status is JobStatus.queued:
        if progress is None:
            return "queued"
        where = f"queued at position {progress.position}" if progress.position else "queued"
        workers = f"{progress.workers_connected} worker{'s' if progress.workers_connected != 1 else ''} connected"
        if job.labels:
            workers += f", {progress.workers_matching} with labels {', '.join(job.labels)}"
        if progress.workers_matching == 0:
            workers += "; it runs when a matching worker connects"
        return f"{where}; {workers}"
    return job.status.value


def _clip(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cut(text: str, limit: int, already_cut: int = 0) -> tuple[str, int]:
    """Keep the head and tail (errors and final prints live at the end); report what was dropped."""
    dropped = 0
    if len(text) > limit:
        head = limit * 2 // 3
        tail = limit - head
        dropped = len(text) - limit
        text = text[:head] + "\n…\n" + text[-tail:]
    return text, dropped + already_cut


def violation_lines(violations: Iterable[Violation], limit: int = MAX_VIOLATIONS) -> list[str]:
    items = list(violations)
    lines: list[str] = []
    for v in items[:limit]:
        lines.append(f"- line {v.line}, col {v.col} [{_clip(v.rule, 60)}]: {_clip(v.message, MAX_FIELD_CHARS)}")
        if v.hint:
            lines.append(f"  hint: {_clip(v.hint, MAX_HINT_CHARS)}")
    if len(items) > limit:
        lines.append(f"- … {len(items) - limit} more violations not shown")
    return lines


def format_violations(violations: list[Violation], policy: str | None = None) -> str:
    where = f" by policy {policy}" if policy else ""
    n = len(violations)
    head = f"status: rejected{where}: {n} violation{'s' if n != 1 else ''}; nothing ran, the stage is unchanged"
    return "\n".join([head, *violation_lines(violations), "Fix every listed line and try again."])


def _value_text(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + f" … [value truncated: {len(text) - MAX_VALUE_CHARS} more characters]"
    return text


def format_job(job: JobView, *, max_output_chars: int = MAX_OUTPUT_CHARS, max_prims: int = MAX_PRIMS,
               stage: str | None = None) -> str:
    """The text a model sees for one job (terminal or not); `stage`: what the answering worker serves."""
    res = job.result
    status = job.status.value
    lines = [f"status: {status}"]
    if res is not None and res.limit:
        lines[0] += f" (limit reached: {res.limit})"
    lines.append(f"job: {job.id} (policy {job.policy})")
    if job.worker_id:
        lines.append(f"worker: {job.worker_id}" + (f" (stage {stage})" if stage else ""))
    if not job.status.terminal:
        lines.append(NOT_FINISHED.get(job.status, "the job has not finished yet") + "; check again later with its id")
        return "\n".join(lines)
    if res is None:
        if job.status is JobStatus.cancelled:
            lines.append("the job was cancelled before it ran; the stage is unchanged")
        elif job.status is JobStatus.lost:
            lines.append("the worker stopped while running this job; its outcome is unknown and it was not re-run")
        return "\n".join(lines)
    if res.violations:
        lines.append(f"violations ({len(res.violations)}); nothing ran:")
        lines.extend(violation_lines(res.violations))
    if res.error is not None:
        at = f" at line {res.error.line}" if res.error.line else ""
        lines.append(f"error: {_clip(res.error.type, 100)}{at}: {_clip(res.error.message, 500)}")
    if job.status is not JobStatus.succeeded:
        lines.append("the job did not succeed, so the stage was left exactly as it was")
    out, dropped = _cut(res.stdout or "", max_output_chars, 0)
    if out:
        lines.append("output:")
        lines.append(out.rstrip("\n"))
    server_cut = res.stdout_truncated or 0
    if dropped or server_cut:
        parts = []
        if dropped:
            parts.append(f"{dropped} characters not shown here")
        if server_cut:
            parts.append(f"{server_cut} bytes cut by the sandbox's output limit")
        lines.append(f"[output truncated: {'; '.join(parts)}]")
    if res.value is not None:
        lines.append(f"value: {_value_text(res.value)}")
    total = res.changed_prims_total if res.changed_prims_total is not None else len(res.changed_prims)
    if total:
        shown = res.changed_prims[:max_prims]
        more = total - len(shown)
        tail = f", … and {more} more" if more > 0 else ""
        lines.append(f"changed prims ({total}): {', '.join(shown)}{tail}")
    elif job.status is JobStatus.succeeded:
        lines.append("changed prims: none")
    return "\n".join(lines)


def format_validation(result: ValidateResponse) -> str:
    if result.ok:
        return f"valid: the code compiles under policy {result.policy}; nothing was run"
    return format_violations(result.violations, result.policy)


def format_error(err: BaseException) -> str:
    """Errors a model can act on. Never includes headers or the token (the SDK never puts it there)."""
    if isinstance(err, PolicyViolation):
        return format_violations(err.violations, err.details.get("policy"))
    if isinstance(err, ConnectionFailed):
        return f"error: kitgate controller unreachable: {err.message}. Nothing ran. Try again later."
    if isinstance(err, KitgateError):
        rid = f" (request {err.request_id})" if err.request_id else ""
        advice = {
            "AuthError": " The gateway token is missing or no longer valid; ask the operator for a new one.",
            "ForbiddenError": " This token is not allowed to do that; do not retry with other tools.",
            "RateLimited": " Too many requests; wait before trying again.",
        }.get(type(err).__name__, "")
        return f"error: {err.code}: {_clip(err.message, 500)}{rid}.{advice}".replace("..", ".")
    return f"error: {type(err).__name__}"
