"""The outcome of one job, in the shape the controller's ExecutionResult expects (plain dicts, no pydantic).

Why the result mapping lives here too: how a fork server's account of a child (exit code, signal, what
it killed it for) and the child's own JSON become a `JobOutcome` is one table of cases, and keeping it
beside the type keeps the executor to orchestration. The child is untrusted: its JSON is only data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import signal
from dataclasses import dataclass, field
from typing import Any

from kitgate.protocol.results import normalise_result
from kitgate.protocol.status import REPORTABLE_STATUSES as STATUSES
from kitgate.protocol.wire import MAX_CHANGED_PRIMS  # noqa: F401 - kept importable from here


@dataclass
class JobOutcome:
    status: str
    stdout: str = ""
    stdout_truncated: int = 0
    value: Any = None
    error: dict[str, Any] | None = None
    changed_prims: list[str] = field(default_factory=list)
    changed_prims_total: int | None = None
    limit: str | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"invalid job status {self.status!r}")

    def to_result_dict(self) -> dict[str, Any]:
        """ExecutionResult JSON (without the worker's ids): the protocol's one normaliser, so reading an
        outcome here and reporting it from a worker apply the same caps."""
        fields = {k: getattr(self, k) for k in ("status", "stdout", "stdout_truncated", "value", "error",
                                                "changed_prims", "changed_prims_total", "limit", "violations")}
        return normalise_result({**fields, "timings": {k: self.timings.get(k) for k in ("compile_ms", "run_ms",
                                                                                      "apply_ms")}})


_CHILD_TIMINGS = ("setup_ms", "run_ms", "delta_ms", "cpu_ms", "minflt", "prejob_cpu_ms", "isolate_cpu_ms", "wait_ms")


def error_dict(kind: str, message: str, line: int | None = None) -> dict[str, Any]:
    return {"type": kind, "message": message[:4000], "line": line}


def report_fields(report: Any, policy: Any) -> dict[str, Any]:
    cap = int(policy.limits.output_bytes)
    stdout = report.stdout if isinstance(getattr(report, "stdout", None), str) else ""
    truncated = int(getattr(report, "stdout_truncated", 0) or 0)
    if len(stdout.encode()) > cap:
        cut = stdout.encode()[:cap]
        truncated += len(stdout.encode()) - cap
        stdout = cut.decode("utf-8", "ignore")
    status = report.status if report.status in STATUSES else "failed"
    error = report.error
    if error is not None and not isinstance(error, dict):
        error = error.to_dict() if hasattr(error, "to_dict") else {"type": "Error", "message": str(error), "line": None}
    limit = getattr(report, "limit", None)
    if limit is None and isinstance(error, dict) and error.get("type") == "MemoryError":
        limit = "memory"
    return {"status": status, "stdout": stdout, "stdout_truncated": truncated, "value": report.value,
            "error": error, "limit": limit}


class _WireReport:
    """The child's report after type checks (the child is untrusted; its JSON is just data)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.status = data.get("status") if data.get("status") in STATUSES else "failed"
        self.stdout = data.get("stdout") if isinstance(data.get("stdout"), str) else ""
        st = data.get("stdout_truncated")
        self.stdout_truncated = st if isinstance(st, int) and st >= 0 else 0
        self.value = data.get("value")
        err = data.get("error")
        if err is not None:
            if not isinstance(err, dict):
                err = {"type": "Error", "message": str(err)}
            line = err.get("line")
            err = error_dict(str(err.get("type") or "Error")[:200], str(err.get("message") or ""),
                         line if isinstance(line, int) else None)
        self.error = err
        limit = data.get("limit")
        self.limit = limit[:64] if isinstance(limit, str) else None


def _failed(kind: str, message: str, limit: str | None = None) -> tuple[JobOutcome, None]:
    return make_outcome(status="failed", limit=limit, error=error_dict(kind, message)), None


def map_result(header: dict[str, Any], raw: bytes, policy: Any) -> tuple[JobOutcome, dict[str, Any] | None]:
    """Turn the server's account of the child (+ the child's own JSON) into an outcome and its wire delta."""
    if not header.get("ok"):
        return _failed("SandboxError", str(header.get("error", "")))
    stderr_tail = str(header.get("stderr", ""))[-2000:]
    killed = header.get("killed")
    sig = header.get("signal")
    code = header.get("exit_code")
    cpu_limit = max(1, math.ceil(float(policy.limits.cpu_s)))
    memory = f"memory limit of {policy.limits.memory_mb} MB reached"
    if killed == "timeout":
        return make_outcome(status="timed_out", limit="timeout",
                            error=error_dict("TimeoutError", f"wall-clock limit of {policy.limits.timeout_s}s "
                                                             "reached (or the job's own timeout)")), None
    if killed == "output":
        return _failed("OutputLimitExceeded", "native output flood: the job was killed", "output")
    if killed == "result":
        return _failed("ResultTooLarge", "the job's result exceeded the cap: the job was killed", "result")
    if header.get("complete") and raw:
        return _parse_child_result(raw, policy)  # how a finished child was then reaped does not matter
    if sig is not None:
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and float(header.get("cpu_s", 0)) >= cpu_limit - 0.05):
            return _failed("CPULimitExceeded", f"CPU limit of {cpu_limit}s reached", "cpu")
        if "bad_alloc" in stderr_tail or "MemoryError" in stderr_tail:
            return _failed("MemoryError", memory, "memory")
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return _failed("Crash", f"the job's process died of {name}"
                       + (f"; stderr: {stderr_tail}" if stderr_tail else ""))
    if "MemoryError" in stderr_tail or "bad_alloc" in stderr_tail:
        return _failed("MemoryError", memory, "memory")
    # No stderr here: an exit without a result is the sandbox's own failure and its traceback would show
    # sandbox internals (native crashes, above, keep their stderr: that is USD's own message).
    return _failed("Crash", f"the job's process exited with code {code} without a result")


def _parse_child_result(raw: bytes, policy: Any) -> tuple[JobOutcome, dict[str, Any] | None]:
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or not isinstance(body.get("report"), dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError):
        return _failed("SandboxError", "the job returned malformed data")
    fields = report_fields(_WireReport(body["report"]), policy)
    delta = body.get("delta")
    timings = body.get("timings")
    child = {f"child_{k}": round(v, 3) for k, v in timings.items() if k in _CHILD_TIMINGS
             and isinstance(v, (int, float))} if isinstance(timings, dict) else {}
    return make_outcome(**fields, timings=child), (delta if isinstance(delta, dict) else None)




def make_outcome(**fields: Any) -> JobOutcome:
    fields.setdefault("timings", {})
    return JobOutcome(**fields)


def replace(outcome: JobOutcome, **changes: Any) -> JobOutcome:
    return dataclasses.replace(outcome, **changes)


def set_timing(outcome: Any, key: str, ms: float) -> None:
    timings = outcome.timings
    if isinstance(timings, dict):
        timings[key] = round(ms, 3)
    else:
        setattr(timings, key, round(ms, 3))
