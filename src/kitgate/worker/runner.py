"""The one job runner shared by the headless worker and the Kit extension: lifecycle and the job hand-off.

Shape: a network thread (`network.py`: keys, claims, heartbeats, result delivery) and a host thread that
calls `tick()` (the headless main loop, or Kit's update callback on the main thread) and runs each job
(`execution.py`). The two meet in a one-slot hand-off (`handoff.py`), so stage work never happens on
the network thread and the host never waits on the network.

    claim -> journal claim id -> verify signed claim -> [host] execute -> [host] apply delta -> outbox -> report

A claim id is journaled on disk before its job can run (never run twice), a result sits in the outbox
until the controller acknowledged it (never lost), and a refused signed claim is reported as `rejected`.
What is fsync'd and why that is crash-safe is argued in `state.py`: nothing on the per-job path when the
first report is acknowledged; a result is made durable as soon as it could not be delivered at once.
Each thread keeps one keep-alive connection to the controller.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from kitgate.protocol import JobStatus
from kitgate.worker.config import Phase, RunnerConfig, StageHost, Status
from kitgate.worker.execution import Execution
from kitgate.worker.handoff import Handoff
from kitgate.worker.live import LiveRelay
from kitgate.worker.network import Backoff, Network
from kitgate.worker.outbox import Outbox
from kitgate.worker.results import simple_result
from kitgate.worker.state import WorkerState
from kitgate.worker.transport import ControllerTransport
from kitgate.worker.verify import Job

__all__ = ["Backoff", "Phase", "Runner", "RunnerConfig", "StageHost", "Status"]

log = logging.getLogger("kitgate.worker")


class Runner:
    """The worker state machine. The host calls `start()`, then `tick()` repeatedly, then `stop()`."""

    def __init__(
        self,
        config: RunnerConfig,
        host: StageHost,
        *,
        executor_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.config = config
        self.host = host
        self.state = WorkerState(config.state_dir)
        self.worker_id = self.state.worker_id(config.worker_id)
        self.handoff = Handoff()
        reports = ControllerTransport(
            config.controller_url,
            config.token,
            timeout_s=config.http_timeout_s,
            max_response_bytes=config.max_response_bytes,
            ca_file=config.ca_file,
        )
        self.outbox = Outbox(self.state, reports, self.handoff)
        self.live = LiveRelay(self._wake_network)  # printed text of the running job, sent while it runs
        self.network = Network(config, self.worker_id, self.state, self.handoff, self.outbox, reports, self._finish,
                               live=self.live)
        self.execution = Execution(config, host, self.worker_id, self._finish, executor_factory, live=self.live)
        self._reports = reports
        self._thread: threading.Thread | None = None

    @property
    def counters(self) -> dict[str, int]:
        return self.handoff.counters

    @property
    def stage_name(self) -> str | None:
        return self.network.stage_name

    # ------------------------------------------------------------------ host-facing API (any thread)
    def start(self) -> None:
        """Recover the journal, then start the network thread."""
        self._recover_interrupted()
        self.outbox.load()
        self._thread = threading.Thread(target=self.network.loop, name="kitgate-worker-net", daemon=True)
        self._thread.start()

    def pause(self, reason: str = "paused") -> None:
        self.handoff.pause(reason)

    def resume(self) -> None:
        self.handoff.pause(None)

    @property
    def paused(self) -> bool:
        return self.handoff.paused is not None

    def set_stage_name(self, name: str | None) -> None:
        with self.handoff.lock:
            self.network.stage_name = name

    def status(self) -> Status:
        h = self.handoff
        with h.lock:
            return Status(
                phase=str(Phase.paused if h.paused and h.active is None else h.phase),
                worker_id=self.worker_id,
                controller=self.config.controller_url,
                current_job=h.active.job_id if h.active else None,
                last_results=list(h.last_results),
                last_error=h.last_error,
                outbox=self.outbox.count,  # cached: status() runs on Kit's main thread, no disk I/O there
                paused_reason=h.paused,
                live_output=self.live.tail(),
                approvals_waiting=h.approvals_waiting,
            )

    def busy(self) -> bool:
        with self.handoff.lock:
            return self.handoff.active is not None

    # ------------------------------------------------------------------ host thread
    def tick(self, timeout: float = 0.0) -> bool:
        """Do at most one piece of stage work. Returns True when it did some. Host thread only."""
        if self.execution.offloaded:
            return self.execution.poll()
        job = self.handoff.take(timeout)
        if job is None:
            return False
        self.handoff.set_phase(Phase.running)
        self.execution.run(job)
        return True

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop claiming, abandon (and report) a job that has not finished, flush, join, kill children.

        Call it from the host thread (headless main loop after its last tick; Kit's on_shutdown).
        """
        self.handoff.stop()
        self.network.claims.abort()
        child_still_running = self.execution.abandon(grace_s)
        if self._thread is not None:
            self._thread.join(timeout=self.config.http_timeout_s + grace_s)
            self._thread = None
        with self.handoff.lock:
            pending, self.handoff.pending = self.handoff.pending, None
        if pending is not None:
            # "not_started" rejections are re-queued by the controller (docs/architecture.md, retry rule)
            self._finish(pending, simple_result(JobStatus.rejected, "not_started",
                                                "worker shutting down; job never started",
                                                **self.execution.ids(pending)))
        if self.outbox.undelivered():
            with contextlib.suppress(Exception):  # whatever is left is made durable below
                self.outbox.flush(timeout_s=min(2.0, self.config.http_timeout_s))
        self.network.say_stopped()
        self.outbox.make_durable()  # whatever is still undelivered must outlive this process and a power loss
        self.execution.close(in_background=child_still_running)
        self._reports.abort()
        self.state.close()
        self.handoff.set_phase(Phase.stopped)

    def _wake_network(self) -> None:
        """Live output is waiting: wake the network thread if that costs no wait (else it wakes on its own)."""
        if self.handoff.lock.acquire(blocking=False):
            try:
                self.handoff.wake.notify_all()
            finally:
                self.handoff.lock.release()

    # ------------------------------------------------------------------ results (any thread)
    def _finish(self, job: Job, result: dict[str, Any]) -> None:
        """Journal -> outbox, free the worker, wake the network thread."""
        # A result whose effects are on disk (the headless host saved the stage) is fsync'd before it is
        # sent; any other one only when its first delivery fails (see state.py).
        durable = bool(getattr(self.host, "durable_effects", False)) and result.get("status") == JobStatus.succeeded
        self.state.finish_claim(job.claim_id, result, job.job_id, job.exp, durable=durable)
        with self.handoff.wake:
            self.outbox.add_locked(job.claim_id, job.job_id, result, durable)
            self.handoff.finished_locked(job, result["status"])
        log.info("job %s finished: %s", job.job_id, result["status"])

    def _recover_interrupted(self) -> None:
        """Claims journaled by a previous process that never finished: report, never re-run."""
        for rec in self.state.open_claims():
            claim_id, job_id = str(rec.get("claim_id")), rec.get("job_id")
            if not isinstance(job_id, str) or self.state.has_result(claim_id):
                # It finished (the process died between storing the result and closing the claim): the
                # stored result goes out as it is. Or the record is torn (a power loss): the job is
                # unknown, and the controller declares it lost. Neither is re-run.
                self.state.close_claim(claim_id)
                continue
            log.warning("job %s was interrupted by a worker restart; reporting it as failed", job_id)
            result = simple_result(
                JobStatus.failed,
                "WorkerInterrupted",
                "the worker stopped while this job ran; it was not re-run",
                claim_id=claim_id,
                worker_id=self.worker_id,
                claimed_at=rec.get("at"),
                started_at=None,
            )
            self.state.finish_claim(claim_id, result, job_id)
