"""What the client reads from the controller, declared on the client's side of the wire.

The client must install and import without the server (no FastAPI, no usd-core), so it cannot reuse the
controller's pydantic models. It declares its own, for the responses it reads, and they differ from the
server's on purpose in one way: they ignore fields they do not know, so a newer controller that adds a field
does not break an older SDK. tests/client/test_models_contract.py holds them to shared_schema.json (every
field declared here exists there with a compatible type, and every required server field is declared).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kitgate.protocol.status import JobStatus

__all__ = [
    "ErrorInfo",
    "JobCode",
    "JobList",
    "JobProgress",
    "JobResult",
    "JobStatus",
    "JobView",
    "LiveEvent",
    "RenderOutcome",
    "RenderSpec",
    "Timings",
    "ValidateResponse",
    "Violation",
]


class _Read(BaseModel):
    """A response body: unknown fields are ignored (forward compatible), known ones are type-checked."""

    model_config = ConfigDict(extra="ignore")


class Violation(_Read):
    line: int
    col: int
    rule: str
    message: str
    hint: str


class ValidateResponse(_Read):
    ok: bool
    policy: str
    policy_digest: str
    code_sha256: str
    violations: list[Violation]


class ErrorInfo(_Read):
    type: str
    message: str = ""
    line: int | None = None


class Timings(_Read):
    queued_at: float | None = None
    claimed_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    compile_ms: float | None = None
    run_ms: float | None = None
    apply_ms: float | None = None


class RenderSpec(_Read):
    """The picture a job asked for (`render` on submit)."""

    width: int
    height: int
    camera: str | None = None


class RenderProblem(_Read):
    code: str
    message: str = ""
    hint: str = ""


class RenderOutcome(_Read):
    """The picture part of a result: `ok` with its size and hash (the PNG is at GET /v1/jobs/{id}/image),
    or why there is none. A failed picture never fails the job."""

    ok: bool
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    render_ms: float | None = None
    error: RenderProblem | None = None


class JobResult(_Read):
    """A finished job's outcome (the server's ExecutionResult component)."""

    status: JobStatus
    worker_id: str | None = None
    stdout: str = ""
    stdout_truncated: int = 0
    value: Any = None
    error: ErrorInfo | None = None
    changed_prims: list[str] = Field(default_factory=list)
    changed_prims_total: int | None = None
    limit: str | None = None
    violations: list[Violation] = Field(default_factory=list)
    timings: Timings = Field(default_factory=Timings)
    render: RenderOutcome | None = None


class JobView(_Read):
    id: str
    task_id: str
    status: JobStatus
    policy: str
    policy_digest: str
    code_sha256: str
    labels: list[str]
    owner: str
    idempotency_key: str | None = None
    timeout_s: float | None = None
    attempts: int = 0
    max_retries: int = 0
    worker_id: str | None = None
    created_at: float
    queued_at: float | None = None
    claimed_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    render: RenderSpec | None = None
    result: JobResult | None = None


class JobList(_Read):
    jobs: list[JobView]
    next_cursor: str | None = None


class JobProgress(_Read):
    """Where a job is and whether anything can run it (what a waiting client shows)."""

    job_id: str
    status: JobStatus
    position: int | None = None
    workers_connected: int = 0
    workers_matching: int = 0
    stages_matching: list[str] = Field(default_factory=list)
    worker_id: str | None = None
    worker_stage: str | None = None
    running_s: float | None = None
    server_time: float


class JobCode(_Read):
    job_id: str
    code: str
    code_sha256: str


class LiveEvent(_Read):
    """One live job event from `GET /v1/events` (`KitgateClient.events`).

    `type`: created, approval_needed, approved, rejected, claimed, started, output, requeued, finished,
    or gap (the stream may have missed events: reconnecting with `last_event_id` replays what the
    controller still holds). `data` by type: output {"seq", "text", "truncated"?, "dropped"?};
    finished {"status", "error_type"?, "duration_ms"?}; claimed/started {"worker", "attempt"};
    rejected {"by", "reason"}; created {"status", "policy", "labels"}.
    """

    id: int
    type: str
    job_id: str = ""
    owner: str = ""
    at: float = 0.0
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        """The printed text of an `output` event ("" for any other type). Show it as text, never as markup."""
        value = self.data.get("text") if self.type == "output" else None
        return value if isinstance(value, str) else ""

    @property
    def status(self) -> str | None:
        """The job's final status, on a `finished` event."""
        value = self.data.get("status") if self.type == "finished" else None
        return value if isinstance(value, str) else None
