"""Job statuses: one list for the controller, the worker, the client and the sandbox.

Why here: the status names are the wire contract between every part (the store's column, the worker's
report, the SDK's `wait`). Seven copies of the list drifted apart once; now each part imports this one.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Where a job is. A StrEnum, so `JobStatus.failed == "failed"` and it serialises as the plain string."""

    pending_approval = "pending_approval"
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    timed_out = "timed_out"
    rejected = "rejected"
    cancelled = "cancelled"
    lost = "lost"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


# A job in one of these never changes again.
TERMINAL_STATUSES = frozenset(
    {
        JobStatus.succeeded,
        JobStatus.failed,
        JobStatus.timed_out,
        JobStatus.rejected,
        JobStatus.cancelled,
        JobStatus.lost,
    }
)
# What a worker may report for a job it holds (and what the sandbox's outcome may carry). `cancelled`
# and `lost` are the controller's own verdicts; a worker claiming them is refused.
REPORTABLE_STATUSES = frozenset({JobStatus.succeeded, JobStatus.failed, JobStatus.timed_out, JobStatus.rejected})

# A worker reports this error type (with status `rejected`) when it refused a job before running any of
# it (claim expired in transit, shutting down, no stage). Only such jobs are re-queued, because scene
# edits are not idempotent and a job that may have started must never run twice.
NOT_STARTED = "not_started"
