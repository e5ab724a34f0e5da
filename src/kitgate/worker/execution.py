"""Running one verified job on the host thread: sandbox, stage, delta, result.

    [host] get stage -> execute in the sandbox (isolated child, or in-process for `trusted`)
           -> apply the delta to the live stage -> build the result once -> finish(job, result)

Why a module of its own: this is the only part of the worker that touches a stage, and every method here
runs on the host thread (the headless main loop, Kit's main thread). In Kit an isolated job may be
offloaded: the main thread snapshots the layer, a helper thread waits for the child, and the delta is
applied back on the main thread by `poll()`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kitgate.protocol import NOT_STARTED, JobStatus
from kitgate.protocol.errors import error_info
from kitgate.worker import picture
from kitgate.worker.config import RunnerConfig, StageHost
from kitgate.worker.live import LiveRelay
from kitgate.worker.results import build_result, outcome_fields, safe_exception_text, simple_result
from kitgate.worker.verify import Job

log = logging.getLogger("kitgate.worker")


def apply_error(exc: BaseException) -> tuple[str, str]:
    """(type, message) of a failed apply: a delta the host refused while building it keeps the sandbox's
    own type (`DeltaTooLarge`, `DeltaRejected`, `UnsupportedEdit`) and message; anything else is
    `ApplyError` naming the exception."""
    from kitgate.sandbox.delta import DeltaError  # lazy: the worker itself needs no pxr until a job runs

    if isinstance(exc, DeltaError) and type(exc) is not DeltaError:
        return type(exc).__name__, str(exc)[:4000]
    return "ApplyError", safe_exception_text(exc)


class Execution:
    """Owns the sandbox executor; turns each job into exactly one result handed to `finish`."""

    def __init__(
        self,
        config: RunnerConfig,
        host: StageHost,
        worker_id: str,
        finish: Callable[[Job, dict[str, Any]], None],
        executor_factory: Callable[[], Any] | None = None,
        live: LiveRelay | None = None,
    ) -> None:
        self.config = config
        self.live = live
        self.host = host
        self.worker_id = worker_id
        self._finish = finish
        self._executor_factory = executor_factory
        self.executor: Any = None  # started on the first job
        self._future: concurrent.futures.Future[Any] | None = None  # offloaded isolated execution
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._offloaded: tuple[Job, Any, Any] | None = None  # (job, live stage, snapshot)
        self._picture: tuple[Job, dict[str, Any], picture.PendingPicture] | None = None  # Kit: capture pending

    def ids(self, job: Job) -> dict[str, Any]:
        return {"claim_id": job.claim_id, "worker_id": self.worker_id, "claimed_at": job.claimed_at,
                "started_at": job.started_at}

    # ------------------------------------------------------------------ one job
    def run(self, job: Job) -> None:
        job.started_at = time.time()
        stage = None
        try:
            stage = self.host.get_stage()
        except Exception as exc:  # noqa: BLE001
            log.warning("host has no stage: %s", safe_exception_text(exc))
        if stage is None:
            self._finish(job, simple_result(JobStatus.rejected, NOT_STARTED, "the worker has no open stage",
                                            **self.ids(job)))
            return
        mode = getattr(job.policy, "mode", "isolated")
        if self.config.offload_isolated and mode == "isolated":
            self._start_offloaded(job, stage)
            return
        try:
            ex = self._get_executor()
            watch = self._live_callbacks(job, ex)

            def call() -> tuple[Any, Any]:
                return ex.execute(job.code, job.policy, stage, timeout_s=job.timeout_s, **watch)

            wrap = getattr(self.host, "run_in_process", None)
            if mode == "in_process" and wrap is not None:
                outcome, delta = wrap(job, stage, call)  # Kit: inside an undoable command
            else:
                outcome, delta = call()
        except Exception as exc:  # noqa: BLE001 - the sandbox failing is a failed job, not a dead worker
            log.warning("job %s: executor error: %s", job.job_id, safe_exception_text(exc))
            self._finish(job, simple_result(JobStatus.failed, "ExecutorError", safe_exception_text(exc),
                                            **self.ids(job)))
            return
        self._apply_and_finish(job, outcome, delta, stage)

    def _apply_and_finish(self, job: Job, outcome: Any, delta: Any, stage: Any) -> None:
        data = outcome_fields(outcome)
        if job.extra.get("cancelled") and data.get("status") == JobStatus.succeeded:
            # The controller no longer holds this claim (e.g. declared it lost): applying now would be
            # an edit nobody is told about.
            data["status"] = JobStatus.failed
            data["error"] = error_info("Abandoned", "the controller cancelled this claim; the delta was not applied")
            data["changed_prims"], data["changed_prims_total"] = [], 0
            delta = None
        if data.get("status") == JobStatus.succeeded and delta is not None:
            self._apply(job, data, delta, stage)
        elif data.get("status") != JobStatus.succeeded:
            data["changed_prims"], data["changed_prims_total"] = [], 0
        # The picture the job asked for, of the stage as it is now (worker/picture.py); it never fails the job.
        shot = picture.take_picture(job, stage, self.host, data.get("status"))
        if shot is not None and not isinstance(shot, dict):
            self._picture = (job, data, shot)  # finished by poll() once the host's capture is done
            return
        if shot is not None:
            data["render"] = shot
        self._report(job, data)

    def _report(self, job: Job, data: dict[str, Any]) -> None:
        result = build_result(data, **self.ids(job))
        try:
            result = self.host.job_finished(job, result) or result
        except Exception as exc:  # noqa: BLE001
            log.warning("job %s: host post-processing failed: %s", job.job_id, safe_exception_text(exc))
        self._finish(job, result)

    def _apply(self, job: Job, data: dict[str, Any], delta: Any, stage: Any) -> None:
        """Apply the child's delta to the live stage; on failure the job failed and the stage is unchanged."""
        t0 = time.perf_counter()
        try:
            current = self.host.get_stage()
            if current is None or current != stage:  # == compares the underlying stage
                raise RuntimeError("the stage was replaced while the job ran; delta not applied")
            changed = self.host.apply_delta(job, delta, stage)
        except Exception as exc:  # noqa: BLE001 - apply_to restores the layer before raising
            log.warning("job %s: delta not applied: %s", job.job_id, safe_exception_text(exc))
            data["status"] = JobStatus.failed
            data["error"] = error_info(*apply_error(exc))
            data["changed_prims"], data["changed_prims_total"] = [], 0
        else:
            if changed is not None and not data.get("changed_prims"):
                data["changed_prims"] = list(changed)
            # Lets the fork server update its cached scene copy instead of rebuilding it (optional
            # sandbox hook; see docs/architecture.md, Worker section).
            note = getattr(self.executor, "note_applied", None)
            if callable(note):
                with contextlib.suppress(Exception):
                    note(delta)
        timings = dict(data.get("timings") or {})
        timings["apply_ms"] = (time.perf_counter() - t0) * 1000.0
        data["timings"] = timings

    # ------------------------------------------------------------------ offloaded (Kit)
    @property
    def offloaded(self) -> bool:
        return self._future is not None or self._picture is not None

    def poll(self) -> bool:
        """Finish an offloaded job whose child is done, or whose picture the host has taken (on the host
        thread). True when it did."""
        if self._picture is not None:
            job, data, pending = self._picture
            if not pending.done():
                return False
            self._picture = None
            data["render"] = picture.collect(pending)
            self._report(job, data)
            return True
        if self._future is None or not self._future.done():
            return False
        fut, ctx = self._future, self._offloaded
        self._future, self._offloaded = None, None
        if ctx is None:
            return False
        job, stage, _snap = ctx
        try:
            outcome, delta = fut.result()
        except Exception as exc:  # noqa: BLE001
            self._finish(job, simple_result(JobStatus.failed, "ExecutorError", safe_exception_text(exc),
                                            **self.ids(job)))
            return True
        self._apply_and_finish(job, outcome, delta, stage)
        return True

    def _start_offloaded(self, job: Job, stage: Any) -> None:
        """Kit: snapshot on the main thread, run the child from a helper thread, apply later on main."""
        from kitgate.worker.snapshot import snapshot_stage

        try:
            snap = snapshot_stage(stage)
        except Exception as exc:  # noqa: BLE001
            self._finish(job, simple_result(JobStatus.failed, "SnapshotError", safe_exception_text(exc),
                                            **self.ids(job)))
            return
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kitgate-exec")
        ex = self._get_executor()
        self._offloaded = (job, stage, snap)
        self._future = self._pool.submit(ex.execute, job.code, job.policy, snap, timeout_s=job.timeout_s,
                                         **self._live_callbacks(job, ex))

    def abandon(self, grace_s: float) -> bool:
        """Stop: a child still running for an offloaded job gets `grace_s`, its delta is never applied, and
        the job is reported failed. True when the child is still running (close the sandbox off-thread)."""
        if self._picture is not None:  # the change is applied: report it, without the picture
            job, data, _pending = self._picture
            self._picture = None
            data["render"] = picture.abandoned()
            self._report(job, data)
        fut, ctx = self._future, self._offloaded
        if fut is None or ctx is None:
            return False
        still_running = False
        try:
            fut.result(timeout=grace_s)
        except concurrent.futures.TimeoutError:
            still_running = True  # Executor.close() would wait for the job: do it off this thread
        except Exception:  # noqa: BLE001, S110 - the job is abandoned whatever it raised
            pass
        self._future, self._offloaded = None, None
        self._finish(ctx[0], simple_result(JobStatus.failed, "WorkerShutdown",
                                           "abandoned while running; stage not changed", **self.ids(ctx[0])))
        return still_running

    def _live_callbacks(self, job: Job, ex: Any) -> dict[str, Callable[..., None]]:
        """on_started/on_output for an executor that takes them (kitgate's does; a host's own may not)."""
        live = self.live
        if live is None or not getattr(ex, "supports_live", False):
            return {}
        return {"on_started": lambda: live.started(job), "on_output": lambda text: live.output(job, text)}

    # ------------------------------------------------------------------ the sandbox executor
    def _get_executor(self) -> Any:
        if self.executor is None:
            if self._executor_factory is not None:
                self.executor = self._executor_factory()
            else:
                from kitgate.sandbox.executor import Executor

                self.executor = Executor(python=self.config.python)
            if hasattr(self.executor, "__enter__"):
                self.executor.__enter__()
        return self.executor

    def close(self, *, in_background: bool = False) -> None:
        """Shut the sandbox down. `in_background`: a child is still running, so wait for it on a thread."""
        ex, self.executor = self.executor, None
        pool, self._pool = self._pool, None
        if in_background:
            log.warning("a job's child is still running; the sandbox closes when it reaches its limit")

            def _close_later() -> None:
                if pool is not None:
                    pool.shutdown(wait=True)
                _close_executor(ex)

            threading.Thread(target=_close_later, name="kitgate-exec-close", daemon=True).start()
            return
        _close_executor(ex)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _close_executor(ex: Any) -> None:
    if ex is None:
        return
    try:
        if hasattr(ex, "__exit__"):
            ex.__exit__(None, None, None)
        elif hasattr(ex, "close"):
            ex.close()
    except Exception as exc:  # noqa: BLE001 - shutdown must go on
        log.warning("executor shutdown: %s", safe_exception_text(exc))

