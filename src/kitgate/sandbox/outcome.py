"""The outcome of one job, in the shape the controller's ExecutionResult expects (plain dicts, no pydantic)."""

from __future__ import annotations

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
