"""The one-slot hand-off between the network thread and the host thread, and the state both read.

Why: stage work must happen on the host thread only (Kit's main thread, the headless main loop) and
the host must never wait on the network. The network thread puts a verified job into the slot
(`offer`); the host takes it (`take`); `finished` frees the worker for the next claim. One lock guards
the slot and the status fields; the outbox shares it, so a finished job and its queued result appear
together.
"""

from __future__ import annotations

import logging
import threading
import time

from kitgate.protocol.wire import APPROVALS_WAITING_CAP
from kitgate.worker.config import Phase
from kitgate.worker.verify import Job

log = logging.getLogger("kitgate.worker")


class Handoff:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self.pending: Job | None = None  # verified, waiting for the host thread
        self.active: Job | None = None  # claimed and not yet finished (pending or running)
        self.active_since = 0.0
        self.paused: str | None = None
        self.phase = Phase.idle
        self.last_error: str | None = None
        self.last_results: list[tuple[str, str]] = []
        self.approvals_waiting: int | None = None  # from the controller's last claim answer (None: not told)
        # what happened so far, for logs and tests (plain ints; a torn read is harmless)
        self.counters = {"claimed": 0, "rejected": 0, "reported": 0, "garbage": 0, "errors": 0}

    # ------------------------------------------------------------------ network thread
    def offer(self, job: Job) -> None:
        """A verified job: it becomes the active one and waits in the slot for the host."""
        with self.wake:
            self.active = job
            self.active_since = time.monotonic()
            self.pending = job
            self.phase = Phase.running
            self.wake.notify_all()

    def sleep(self, seconds: float) -> None:
        """Wait, but wake at once on stop, pause/resume or a finished job."""
        with self.wake:
            if not self.stopping.is_set():
                self.wake.wait(seconds)

    def set_phase(self, phase: Phase) -> None:
        with self.lock:
            self.phase = phase

    def set_disconnected(self) -> None:
        with self.lock:
            if self.phase != Phase.running:
                self.phase = Phase.disconnected

    def note_approvals_waiting(self, header: str | None) -> None:
        """Keep the count a claim answer carried (APPROVALS_WAITING_HEADER), at most the cap; anything but a
        non-negative integer (or no header: an older controller) leaves the last value as it was."""
        if header is None or not (header.isascii() and header.isdigit() and len(header) <= 12):
            return
        with self.lock:
            self.approvals_waiting = min(int(header), APPROVALS_WAITING_CAP)

    def note_error(self, message: str) -> None:
        self.counters["errors"] += 1
        with self.lock:
            self.last_error = message
        log.warning("%s", message)

    # ------------------------------------------------------------------ host thread
    def take(self, timeout: float = 0.0) -> Job | None:
        """The job waiting in the slot (waiting up to `timeout` for one), or None."""
        with self.wake:
            if self.pending is None and timeout > 0 and not self.stopping.is_set():
                self.wake.wait(timeout)
            job, self.pending = self.pending, None
        return job

    def finished_locked(self, job: Job, status: str) -> None:
        """The job is done (call with `lock` held): free the worker and wake the network thread."""
        if self.active is not None and self.active.claim_id == job.claim_id:
            self.active = None
        self.phase = Phase.idle
        self.last_results = ([(job.job_id, status)] + self.last_results)[:10]
        self.wake.notify_all()

    # ------------------------------------------------------------------ any thread
    def pause(self, reason: str | None) -> None:
        with self.wake:
            self.paused = reason
            self.wake.notify_all()

    def stop(self) -> None:
        self.stopping.set()
        with self.wake:
            self.wake.notify_all()
