"""What the job store and the service refuse, said in the words of jobs and workers, not of HTTP.

Why: the store is used by the service, the CLI banner and tests; if it raised HTTP errors, every
caller would inherit status codes it has no use for, and the store could not be read without the web
framework in mind. So the store raises these, and `error_handlers.py` maps each class to its HTTP
status in ONE table (`DOMAIN_STATUS`). Each error carries the stable `code` clients see in the one
error body, a message that says what to do instead, and `details` that are safe to show.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal by the job domain. `code` is the stable error code of the error body."""

    code = "conflict"

    def __init__(self, message: str, details: dict[str, Any] | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
        if code is not None:
            self.code = code


class JobNotFound(DomainError):
    """No such job, or one the caller may not see (the two are indistinguishable on purpose)."""

    code = "not_found"

    def __init__(self, job_id: str, message: str | None = None) -> None:
        super().__init__(message or f"job {job_id!r} does not exist")
        self.job_id = job_id


class ImageNotFound(JobNotFound):
    """The job exists and the caller may see it, but it has no picture; the message says why, the details
    carry a hint (`render` on submit, or what the renderer said)."""

    code = "image_not_found"

    def __init__(self, job_id: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(job_id, message)
        self.details = dict(details or {})


class WorkerNotFound(DomainError):
    """No worker with this id has ever been seen by this controller."""

    code = "not_found"

    def __init__(self, worker_id: str) -> None:
        super().__init__(f"no worker {worker_id!r} has been seen")
        self.worker_id = worker_id


class NotClaimed(DomainError):
    """A report for a job that this worker, claim id and credential do not hold."""

    code = "not_claimed"

    def __init__(self, job_id: str, worker_id: str | None) -> None:
        super().__init__(f"job {job_id!r} is not held by worker {worker_id!r} under this claim_id")
        self.job_id = job_id


class AlreadyReported(DomainError):
    """The job already has its result; a second report would overwrite it."""

    code = "already_reported"

    def __init__(self, job_id: str, status: str) -> None:
        super().__init__(f"job {job_id!r} was already reported as {status}")
        self.job_id = job_id


class ClaimLost(DomainError):
    """The claim ended (lost, cancelled) before the worker's report arrived."""

    code = "claim_lost"

    def __init__(self, job_id: str, status: str) -> None:
        super().__init__(f"job {job_id!r} is {status}; the claim ended before this report arrived")
        self.job_id = job_id


class InvalidTransition(DomainError):
    """The job is not in a state this action applies to (`code` names the action: not_cancellable, ...)."""

    def __init__(self, job_id: str, status: str, allowed: set[str] | frozenset[str], to: str, code: str) -> None:
        super().__init__(
            f"job {job_id!r} is {status}; only {' or '.join(sorted(allowed))} jobs can become {to}",
            {"status": status},
            code=code,
        )
        self.job_id = job_id


class WorkerIdTaken(DomainError):
    """The worker id is bound to another credential that is still valid."""

    code = "worker_id_taken"

    def __init__(self, worker_id: str) -> None:
        super().__init__(
            f"worker id {worker_id!r} is registered to another credential, which is still valid; use your "
            "own worker id (e.g. a new --worker-id or state dir), or have an admin revoke the credential "
            f"that registered it or release the id (POST /v1/workers/{worker_id}/release)",
            {"worker_id": worker_id},
        )
        self.worker_id = worker_id


class IdempotencyConflict(DomainError):
    """The idempotency key was used before, for different code."""

    code = "idempotency_conflict"

    def __init__(self, job_id: str) -> None:
        super().__init__("idempotency_key was already used for different code", {"job_id": job_id})
        self.job_id = job_id
