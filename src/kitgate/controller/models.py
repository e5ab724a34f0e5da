"""Pydantic models at the HTTP edge. The worker side (stdlib only, runs inside Kit) speaks the same JSON."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kitgate.protocol import JobStatus
from kitgate.protocol.render import CAMERA_PATH_PATTERN, MAX_CAMERA_CHARS, MAX_IMAGE_B64_CHARS, MAX_RENDER_SIDE
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


class RenderSpec(_Strict):
    """A picture of the job's result: drawn by the worker after the job's change is applied, capped by the
    policy's [render] table (GET /v1/policies/{name}); fetched at GET /v1/jobs/{id}/image."""

    width: int = Field(..., ge=1, le=MAX_RENDER_SIDE)
    height: int = Field(..., ge=1, le=MAX_RENDER_SIDE)
    camera: str | None = Field(None, max_length=MAX_CAMERA_CHARS, pattern=CAMERA_PATH_PATTERN,
                               description="a UsdGeom.Camera prim path; omitted: frame the scene's bounds")


class CodeExecuteRequest(_Strict):
    code: str = Field(..., min_length=1, max_length=MAX_CODE_CHARS)
    policy: str | None = Field(None, pattern=POLICY_NAME_PATTERN)
    timeout_s: float | None = Field(None, gt=0, le=3600)
    idempotency_key: str | None = Field(None, pattern=KEY_PATTERN)
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    wait_s: float | None = Field(None, ge=0, le=600)
    max_retries: int | None = Field(None, ge=0, le=10)
    render: RenderSpec | None = None


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


class RenderError(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(..., max_length=64)
    message: str = Field("", max_length=MAX_ERROR_MESSAGE_CHARS)
    hint: str = Field("", max_length=MAX_ERROR_MESSAGE_CHARS)


class RenderOutcome(BaseModel):
    """The picture part of a result. `ok` false: no picture, `error` says why (the job's own status stands)."""

    model_config = ConfigDict(extra="forbid")
    ok: bool
    width: int | None = Field(None, ge=0)
    height: int | None = Field(None, ge=0)
    bytes: int | None = Field(None, ge=0)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    render_ms: float | None = Field(None, ge=0)
    error: RenderError | None = None
    # worker -> controller only: the controller moves the bytes out of the result (the job's JSON keeps the
    # size and hash; the PNG is stored beside the job), so it is always null when read back
    png_base64: str | None = Field(None, max_length=MAX_IMAGE_B64_CHARS,
                                   description="worker -> controller only; served at GET /v1/jobs/{id}/image")


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
    render: RenderOutcome | None = None


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
    render: RenderSpec | None = None
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


class ReportAck(BaseModel):
    """The answer to `POST /v1/jobs/{id}/result?next=1`: the report is stored, and here is the next claim."""

    job_id: str
    status: ExecutionStatus = Field(..., description="the reported job's status as stored")
    next: ClaimResponse | None = Field(None, description="the worker's next job (null: none within wait_s)")


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


MAX_OUTPUT_CHUNK_CHARS = 16_384  # one POST /v1/jobs/{id}/output; workers send smaller, throttled chunks


class JobOutput(_Strict):
    """Live output from the worker holding a job's claim: printed text, and/or that the child started."""

    worker_id: str = Field(..., pattern=WORKER_ID_PATTERN)
    claim_id: str = Field(..., min_length=1, max_length=128)
    seq: int = Field(0, ge=0, le=2**31, description="the worker's chunk counter for this job")
    text: str = Field("", max_length=MAX_OUTPUT_CHUNK_CHARS)
    started: bool = Field(False, description="the sandboxed child began executing the job")
    dropped: int = Field(0, ge=0, le=2**31, description="chunks the worker dropped before this one (queue full)")


class JobOutputAccepted(BaseModel):
    accepted_bytes: int = Field(..., description="bytes of this chunk published (0 once the job's budget is spent)")
    used_bytes: int
    budget_bytes: int = Field(..., description="the policy's output_bytes: the live output cap of the job")
