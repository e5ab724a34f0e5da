"""The outcome of one job, in the shape the controller's ExecutionResult expects (plain dicts, no pydantic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("succeeded", "failed", "timed_out", "rejected")
MAX_CHANGED_PRIMS = 10_000


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
        """ExecutionResult JSON (controller/models.py): only the keys that model accepts."""
        changed = list(self.changed_prims[:MAX_CHANGED_PRIMS])
        total = self.changed_prims_total if self.changed_prims_total is not None else len(self.changed_prims)
        error = None
        if self.error is not None:
            error = {"type": str(self.error.get("type", "Error"))[:200],
                     "message": str(self.error.get("message", ""))[:4000],
                     "line": self.error.get("line") if isinstance(self.error.get("line"), int) else None}
        violations = [
            {k: v[k] for k in ("line", "col", "rule", "message", "hint")}
            for v in (x.to_dict() if hasattr(x, "to_dict") else x for x in self.violations[:1000])
        ]
        return {
            "status": self.status,
            "stdout": self.stdout,
            "stdout_truncated": int(self.stdout_truncated),
            "value": self.value,
            "error": error,
            "changed_prims": changed,
            "changed_prims_total": total,
            "limit": self.limit,
            "violations": violations,
            "timings": {k: self.timings.get(k) for k in ("compile_ms", "run_ms", "apply_ms")},
        }
