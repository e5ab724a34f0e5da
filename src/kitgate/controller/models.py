"""Pydantic models at the HTTP edge. The worker side (stdlib only, runs inside Kit) speaks the same JSON."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kitgate.protocol import JobStatus
from kitgate.protocol.status import REPORTABLE_STATUSES as _REPORTABLE
from kitgate.protocol.status import TERMINAL_STATUSES as _TERMINAL
from kitgate.protocol.wire import (  # noqa: F401 - re-exported: the controller's routes import them from here
    KEY_PATTERN,
    LABEL_PATTERN,
    MAX_CHANGED_PRIMS,
    MAX_CODE_CHARS,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_ERROR_TYPE_CHARS,
    MAX_LABELS,
    MAX_LIMIT_CHARS,
    MAX_STDOUT_CHARS,
    MAX_VIOLATIONS,
    POLICY_NAME_PATTERN,
    WORKER_ID_PATTERN,
)

Label = Annotated[str, StringConstraints(pattern=LABEL_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The job status is kitgate.protocol.JobStatus. The HTTP schema has always named it "ExecutionStatus"
# (shared_schema.json, clients generated from it), so the controller's models use this enum, built from
# JobStatus's own members: the same names and values, no second list to keep in step.
ExecutionStatus = StrEnum("ExecutionStatus", [(s.name, s.value) for s in JobStatus])  # type: ignore[misc]
TERMINAL_STATUSES = frozenset(ExecutionStatus(s.value) for s in _TERMINAL)
# What a worker may report for a job it holds.
REPORTABLE_STATUSES = frozenset(ExecutionStatus(s.value) for s in _REPORTABLE)


class CodeExecuteRequest(_Strict):
    code: str = Field(..., min_length=1, max_length=MAX_CODE_CHARS)
    policy: str | None = Field(None, pattern=POLICY_NAME_PATTERN)
    timeout_s: float | None = Field(None, gt=0, le=3600)
    idempotency_key: str | None = Field(None, pattern=KEY_PATTERN)
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    wait_s: float | None = Field(None, ge=0, le=600)
    max_retries: int | None = Field(None, ge=0, le=10)


class ValidateRequest(_Strict):
    code: str = Field(..., min_length=1, max_length=MAX_CODE_CHARS)
    policy: str | None = Field(None, pattern=POLICY_NAME_PATTERN)


class Violation(BaseModel):
    line: int
    col: int
    rule: str
    message: str
    hint: str


class ValidateResponse(BaseModel):
    ok: bool
    policy: str
    policy_digest: str
    code_sha256: str
    violations: list[Violation]


class ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(..., max_length=MAX_ERROR_TYPE_CHARS)
    message: str = Field("", max_length=MAX_ERROR_MESSAGE_CHARS)
    line: int | None = None


class Timings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queued_at: float | None = None
    claimed_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    compile_ms: float | None = None
    run_ms: float | None = None
    apply_ms: float | None = None


class ExecutionResult(_Strict):
    """What a worker reports for a claimed job, and what clients read back."""

    status: ExecutionStatus
    claim_id: str | None = Field(None, max_length=128)
    worker_id: str | None = Field(None, pattern=WORKER_ID_PATTERN)
    stdout: str = Field("", max_length=MAX_STDOUT_CHARS)
    stdout_truncated: int = Field(0, ge=0)
    value: Any = None
    error: ErrorInfo | None = None
    changed_prims: list[str] = Field(default_factory=list, max_length=MAX_CHANGED_PRIMS)
    changed_prims_total: int | None = Field(None, ge=0)
    limit: str | None = Field(None, max_length=MAX_LIMIT_CHARS)
    violations: list[Violation] = Field(default_factory=list, max_length=MAX_VIOLATIONS)
    timings: Timings = Field(default_factory=Timings)


class StatusUpdate(ExecutionResult):
    """Seed alias body: the job id travels in the body."""

    task_id: str = Field(..., max_length=64)


class JobView(BaseModel):
    id: str
    task_id: str
    status: ExecutionStatus
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
    result: ExecutionResult | None = None


class JobList(BaseModel):
    jobs: list[JobView]
    next_cursor: str | None = None


class ClaimRequest(_Strict):
    worker_id: str = Field(..., pattern=WORKER_ID_PATTERN)
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    stage: str | None = Field(None, max_length=1024)


class ClaimResponse(BaseModel):
    job_id: str
    claim_id: str
    code: str
    policy: str
    policy_digest: str
    timeout_s: float | None
    envelope: str


class HeartbeatRequest(_Strict):
    worker_id: str = Field(..., pattern=WORKER_ID_PATTERN)
    job_id: str | None = Field(None, max_length=64)
    claim_id: str | None = Field(None, max_length=128)
    stage: str | None = Field(None, max_length=1024)
    state: str | None = Field(None, max_length=64)


class HeartbeatResponse(BaseModel):
    ok: bool = True
    cancel: bool = False


class WorkerReleased(BaseModel):
    worker_id: str
    released: bool = Field(..., description="false: the id was not bound to any credential")


class JobProgress(BaseModel):
    """What a waiting client shows: where the job is and whether anything can run it."""

    job_id: str
    status: ExecutionStatus
    position: int | None = Field(None, description="queued: 1 = next to be claimed (all owners, FIFO)")
    workers_connected: int = Field(0, description="workers seen within the claim/heartbeat window")
    workers_matching: int = Field(0, description="connected workers whose labels include all of the job's")
    stages_matching: list[str] = Field(default_factory=list, description="distinct stages of the matching workers")
    worker_id: str | None = Field(None, description="the worker running the job, or the one that answered")
    worker_stage: str | None = Field(None, description="the stage that worker serves")
    running_s: float | None = Field(None, description="running: seconds since the worker claimed the job")
    server_time: float


class JobCode(BaseModel):
    job_id: str
    code: str
    code_sha256: str


class RejectRequest(_Strict):
    reason: str = Field(..., min_length=1, max_length=1000)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody
