"""The one job runner shared by the headless worker and the Kit extension.

Shape: a network thread (claims, heartbeats, result delivery) and a host thread that calls `tick()`
(the headless main loop, or Kit's update callback on the main thread). The two meet in a one-slot
hand-off, so stage work never happens on the network thread and the host never waits on the network.

    claim -> journal claim id -> verify envelope -> [host] execute -> [host] apply delta -> outbox -> report

A claim id is journaled on disk before its job can run (never run twice), a result sits in the outbox
until the controller acknowledged it (never lost), and a refused envelope is reported as `rejected`.
What is fsync'd and why that is crash-safe is argued in `state.py`: nothing on the per-job path when the
first report is acknowledged; a result is made durable as soon as it could not be delivered at once.
The network thread keeps the outbox in memory too (loaded from disk at start), so it never re-reads
the directory per job, and each thread keeps one keep-alive connection to the controller.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .results import build_result, error_info, outcome_dict, safe_exception_text, simple_result
from .state import WorkerState
from .transport import ControllerTransport, Response, TransportError
from .verify import ClaimRefused, EnvelopeChecker, Job, MalformedClaim, keys_from_jwks, parse_claim

log = logging.getLogger("kitgate.executor")


def _apply_error_type(exc: BaseException) -> str:
    """The public error type of a failed apply: a delta the host refused while building it keeps the
    sandbox's own type (`DeltaTooLarge`, `DeltaRejected`, `UnsupportedEdit`), anything else is `ApplyError`."""
    from kitgate.sandbox.delta import DeltaError  # lazy: the runner itself needs no pxr

    if isinstance(exc, DeltaError) and type(exc).__name__ != "DeltaError":
        return type(exc).__name__
    return "ApplyError"


class StageHost(Protocol):
    """What a host (headless loop, Kit binding) provides. Every method runs on the host thread."""

    def get_stage(self) -> Any | None: ...

    def apply_delta(self, job: Job, delta: Any, stage: Any) -> list[str]: ...

    def job_finished(self, job: Job, result: dict[str, Any]) -> dict[str, Any]: ...


class Phase(enum.StrEnum):
    idle = "idle"
    connecting = "connecting"
    polling = "polling"
    running = "running"
    paused = "paused"
    disconnected = "disconnected"
    stopped = "stopped"


@dataclass
class RunnerConfig:
    controller_url: str
    token: str = field(repr=False)
    state_dir: Path
    worker_id: str | None = None
    labels: list[str] = field(default_factory=list)
    stage_name: str | None = None
    policy_dir: Path | None = None
    jwks_file: Path | None = None  # pinned keys given by the operator (else fetched once and pinned)
    poll_wait_s: float = 25.0
    heartbeat_s: float = 5.0
    http_timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    ca_file: str | None = None
    python: str | None = None  # interpreter for the fork server (Kit: Kit's python, not the kit binary)
    offload_isolated: bool = False  # Kit: run isolated jobs on a helper thread against a snapshot
    max_response_bytes: int = 8 * 1024 * 1024


@dataclass
class Status:
    """A snapshot for UIs and logs (copied under the lock; safe to read anywhere)."""

    phase: str
    worker_id: str
    controller: str
    current_job: str | None
    last_results: list[tuple[str, str]]
    last_error: str | None
    outbox: int
    paused_reason: str | None


class Backoff:
    """Jittered exponential backoff (decorrelated so restarting workers do not stampede)."""

    def __init__(self, initial: float, cap: float) -> None:
        self.initial, self.cap = initial, cap
        self._n = 0

    def reset(self) -> None:
        self._n = 0

    def next(self) -> float:
        base = min(self.cap, self.initial * (2 ** min(self._n, 30)))
        self._n += 1
        return base * random.uniform(0.5, 1.0)


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
        self._executor_factory = executor_factory
        self._executor: Any = None
        self._claims = ControllerTransport(
            config.controller_url,
            config.token,
            timeout_s=config.http_timeout_s,
            max_response_bytes=config.max_response_bytes,
            ca_file=config.ca_file,
        )
        self._reports = ControllerTransport(
            config.controller_url,
            config.token,
            timeout_s=config.http_timeout_s,
            max_response_bytes=config.max_response_bytes,
            ca_file=config.ca_file,
        )
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._checker: EnvelopeChecker | None = None
        self._pending: Job | None = None  # verified, waiting for the host thread
        self._active: Job | None = None  # claimed and not yet finished (pending or running)
        self._future: concurrent.futures.Future[Any] | None = None  # offloaded isolated execution
        self._offload_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._offload_ctx: tuple[Job, Any, Any] | None = None
        self._paused: str | None = None
        self._phase = Phase.idle
        self._last_error: str | None = None
        self._last_results: list[tuple[str, str]] = []
        self._outbox_dirty = True
        self._outbox_count = 0
        # (claim_id, job_id, body, durable) waiting for an acknowledgement; the disk holds the same
        self._outbox: list[tuple[str, str, dict[str, Any], bool]] = []
        self._active_since = 0.0
        self._last_prune = time.monotonic()
        self.stage_name = config.stage_name
        self.counters = {"claimed": 0, "rejected": 0, "reported": 0, "garbage": 0, "errors": 0}

    # ------------------------------------------------------------------ host-facing API (any thread)
    def start(self) -> None:
        """Recover the journal, then start the network thread."""
        self._recover_interrupted()
        with self._lock:
            self._outbox = [(c, j, b, False) for c, j, b in self.state.outbox()]
            self._outbox_count = len(self._outbox)
        self._thread = threading.Thread(target=self._net_loop, name="kitgate-worker-net", daemon=True)
        self._thread.start()

    def pause(self, reason: str = "paused") -> None:
        with self._wake:
            self._paused = reason
            self._wake.notify_all()

    def resume(self) -> None:
        with self._wake:
            self._paused = None
            self._wake.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused is not None

    def set_stage_name(self, name: str | None) -> None:
        with self._lock:
            self.stage_name = name

    def status(self) -> Status:
        with self._lock:
            return Status(
                phase=str(Phase.paused if self._paused and self._active is None else self._phase),
                worker_id=self.worker_id,
                controller=self.config.controller_url,
                current_job=self._active.job_id if self._active else None,
                last_results=list(self._last_results),
                last_error=self._last_error,
                outbox=self._outbox_count,  # cached: status() runs on Kit's main thread, no disk I/O there
                paused_reason=self._paused,
            )

    def busy(self) -> bool:
        with self._lock:
            return self._active is not None

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop claiming, abandon (and report) a job that has not finished, flush, join, kill children.

        Call it from the host thread (headless main loop after its last tick; Kit's on_shutdown).
        """
        self._stopping.set()
        self._claims.abort()
        with self._wake:
            self._wake.notify_all()
        background_close = False
        fut, ctx = self._future, self._offload_ctx
        if fut is not None and ctx is not None:
            # Kit: a child is still running for an offloaded job. Wait briefly; never apply its delta.
            try:
                fut.result(timeout=grace_s)
            except concurrent.futures.TimeoutError:
                background_close = True  # Executor.close() would wait for the job: do it off this thread
            except Exception:  # noqa: BLE001, S110 - the job is abandoned whatever it raised
                pass
            self._future, self._offload_ctx = None, None
            self._finish(
                ctx[0],
                simple_result(
                    "failed", "WorkerShutdown", "abandoned while running; stage not changed", **self._ids(ctx[0])
                ),
            )
        if self._thread is not None:
            self._thread.join(timeout=self.config.http_timeout_s + grace_s)
            self._thread = None
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            # "not_started" rejections are re-queued by the controller (docs/architecture.md, retry rule)
            self._finish(
                pending,
                simple_result(
                    "rejected", "not_started", "worker shutting down; job never started", **self._ids(pending)
                ),
            )
        with self._lock:
            undelivered = bool(self._outbox)
        if undelivered:
            with contextlib.suppress(Exception):
                self._flush_outbox(timeout_s=min(2.0, self.config.http_timeout_s))
        with contextlib.suppress(Exception):  # so `kitgate workers list` says "stopped", not "connected"
            self._reports.request("POST", "/v1/workers/heartbeat", body={"worker_id": self.worker_id,
                                  "state": "stopped"}, timeout_s=min(1.0, self.config.http_timeout_s))
        self._make_outbox_durable()  # whatever is still undelivered must outlive this process and a power loss
        if background_close:
            ex, self._executor = self._executor, None
            pool, self._offload_pool = self._offload_pool, None
            log.warning("a job's child is still running; the sandbox closes when it reaches its limit")

            def _close_later() -> None:
                if pool is not None:
                    pool.shutdown(wait=True)
                if ex is not None:
                    with contextlib.suppress(Exception):
                        ex.close()

            threading.Thread(target=_close_later, name="kitgate-exec-close", daemon=True).start()
        self._close_executor()
        if self._offload_pool is not None:
            self._offload_pool.shutdown(wait=True, cancel_futures=True)
            self._offload_pool = None
        self._reports.abort()
        self.state.close()
        with self._lock:
            self._phase = Phase.stopped

    # ------------------------------------------------------------------ host thread
    def tick(self, timeout: float = 0.0) -> bool:
        """Do at most one piece of stage work. Returns True when it did some. Host thread only."""
        if self._future is not None:
            if not self._future.done():
                return False
            return self._complete_offloaded()
        with self._wake:
            if self._pending is None and timeout > 0 and not self._stopping.is_set():
                self._wake.wait(timeout)
            job, self._pending = self._pending, None
        if job is None:
            return False
        self._run(job)
        return True

    # ------------------------------------------------------------------ job execution (host thread)
    def _ids(self, job: Job) -> dict[str, Any]:
        return {
            "claim_id": job.claim_id,
            "worker_id": self.worker_id,
            "claimed_at": job.claimed_at,
            "started_at": job.started_at,
        }

    def _get_executor(self) -> Any:
        if self._executor is None:
            if self._executor_factory is not None:
                self._executor = self._executor_factory()
            else:
                from kitgate.sandbox.executor import Executor

                self._executor = Executor(python=self.config.python)
            if hasattr(self._executor, "__enter__"):
                self._executor.__enter__()
        return self._executor

    def _close_executor(self) -> None:
        ex, self._executor = self._executor, None
        if ex is not None:
            try:
                if hasattr(ex, "__exit__"):
                    ex.__exit__(None, None, None)
                elif hasattr(ex, "close"):
                    ex.close()
            except Exception as exc:  # noqa: BLE001 - shutdown must go on
                log.warning("executor shutdown: %s", safe_exception_text(exc))

    def _run(self, job: Job) -> None:
        job.started_at = time.time()
        with self._lock:
            self._phase = Phase.running
        stage = None
        try:
            stage = self.host.get_stage()
        except Exception as exc:  # noqa: BLE001
            log.warning("host has no stage: %s", safe_exception_text(exc))
        if stage is None:
            self._finish(
                job, simple_result("rejected", "not_started", "the worker has no open stage", **self._ids(job))
            )
            return
        mode = getattr(job.policy, "mode", "isolated")
        if self.config.offload_isolated and mode == "isolated":
            self._start_offloaded(job, stage)
            return
        try:
            ex = self._get_executor()

            def call() -> tuple[Any, Any]:
                return ex.execute(job.code, job.policy, stage, timeout_s=job.timeout_s)

            wrap = getattr(self.host, "run_in_process", None)
            if mode == "in_process" and wrap is not None:
                outcome, delta = wrap(job, stage, call)  # Kit: inside an undoable command
            else:
                outcome, delta = call()
        except Exception as exc:  # noqa: BLE001 - the sandbox failing is a failed job, not a dead worker
            log.warning("job %s: executor error: %s", job.job_id, safe_exception_text(exc))
            self._finish(job, simple_result("failed", "ExecutorError", safe_exception_text(exc), **self._ids(job)))
            return
        self._apply_and_finish(job, outcome, delta, stage)

    def _start_offloaded(self, job: Job, stage: Any) -> None:
        """Kit: snapshot on the main thread, run the child from a helper thread, apply later on main."""
        from .snapshot import snapshot_stage

        try:
            snap = snapshot_stage(stage)
        except Exception as exc:  # noqa: BLE001
            self._finish(job, simple_result("failed", "SnapshotError", safe_exception_text(exc), **self._ids(job)))
            return
        if self._offload_pool is None:
            self._offload_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kitgate-exec")
        ex = self._get_executor()
        self._offload_ctx = (job, stage, snap)
        self._future = self._offload_pool.submit(ex.execute, job.code, job.policy, snap, timeout_s=job.timeout_s)

    def _complete_offloaded(self) -> bool:
        fut, ctx = self._future, self._offload_ctx
        self._future, self._offload_ctx = None, None
        if fut is None or ctx is None:
            return False
        job, stage, _snap = ctx
        try:
            outcome, delta = fut.result()
        except Exception as exc:  # noqa: BLE001
            self._finish(job, simple_result("failed", "ExecutorError", safe_exception_text(exc), **self._ids(job)))
            return True
        self._apply_and_finish(job, outcome, delta, stage)
        return True

    def _apply_and_finish(self, job: Job, outcome: Any, delta: Any, stage: Any) -> None:
        data = outcome_dict(outcome)
        if job.extra.get("cancelled") and data.get("status") == "succeeded":
            # The controller no longer holds this claim (e.g. declared it lost): applying now would be
            # an edit nobody is told about.
            data["status"] = "failed"
            data["error"] = error_info("Abandoned", "the controller cancelled this claim; the delta was not applied")
            data["changed_prims"], data["changed_prims_total"] = [], 0
            delta = None
        if data.get("status") == "succeeded" and delta is not None:
            t0 = time.perf_counter()
            try:
                current = self.host.get_stage()
                if current is None or current != stage:  # == compares the underlying stage
                    raise RuntimeError("the stage was replaced while the job ran; delta not applied")
                changed = self.host.apply_delta(job, delta, stage)
            except Exception as exc:  # noqa: BLE001 - apply_to restores the layer before raising
                log.warning("job %s: delta not applied: %s", job.job_id, safe_exception_text(exc))
                data["status"] = "failed"
                kind = _apply_error_type(exc)
                text = safe_exception_text(exc)
                data["error"] = error_info(kind, text.removeprefix(f"{kind}: ") if kind != "ApplyError" else text)
                data["changed_prims"], data["changed_prims_total"] = [], 0
            else:
                if changed is not None and not data.get("changed_prims"):
                    data["changed_prims"] = list(changed)
                # Lets the fork server update its cached scene copy instead of rebuilding it (optional
                # sandbox hook; see docs/architecture.md, Worker section).
                note = getattr(self._executor, "note_applied", None)
                if callable(note):
                    with contextlib.suppress(Exception):
                        note(delta)
            timings = dict(data.get("timings") or {})
            timings["apply_ms"] = (time.perf_counter() - t0) * 1000.0
            data["timings"] = timings
        elif data.get("status") != "succeeded":
            data["changed_prims"], data["changed_prims_total"] = [], 0
        result = build_result(data, **self._ids(job))
        try:
            result = self.host.job_finished(job, result) or result
        except Exception as exc:  # noqa: BLE001
            log.warning("job %s: host post-processing failed: %s", job.job_id, safe_exception_text(exc))
        self._finish(job, result)

    def _finish(self, job: Job, result: dict[str, Any]) -> None:
        """Journal -> outbox, wake the network thread. Any thread."""
        # A result whose effects are on disk (the headless host saved the stage) is fsync'd before it is
        # sent; any other one only when its first delivery fails (see state.py).
        durable = bool(getattr(self.host, "durable_effects", False)) and result.get("status") == "succeeded"
        self.state.finish_claim(job.claim_id, result, job.job_id, job.exp, durable=durable)
        with self._wake:
            self._outbox.append((job.claim_id, job.job_id, result, durable))
            if self._active is not None and self._active.claim_id == job.claim_id:
                self._active = None
            self._phase = Phase.idle
            self._last_results = ([(job.job_id, result["status"])] + self._last_results)[:10]
            self._outbox_dirty = True
            self._outbox_count = len(self._outbox)
            self._wake.notify_all()
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
                "failed",
                "WorkerInterrupted",
                "the worker stopped while this job ran; it was not re-run",
                claim_id=claim_id,
                worker_id=self.worker_id,
                claimed_at=rec.get("at"),
                started_at=None,
            )
            self.state.finish_claim(claim_id, result, job_id)

    # ------------------------------------------------------------------ network thread
    def _net_loop(self) -> None:
        backoff = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        last_hb = 0.0
        while not self._stopping.is_set():
            try:
                if self._outbox_dirty and not self._flush_outbox():
                    self._set_disconnected()
                    self._sleep(backoff.next())
                    continue
                with self._lock:
                    active = self._active
                    paused = self._paused
                if active is not None:
                    # the claim itself counts as the first heartbeat
                    if time.monotonic() - max(last_hb, self._active_since) >= self.config.heartbeat_s:
                        last_hb = time.monotonic()
                        self._heartbeat(active)
                    self._sleep(min(self.config.heartbeat_s, 0.5))
                    continue
                if paused is not None:
                    self._sleep(1.0)
                    continue
                if time.monotonic() - self._last_prune > 3600:
                    self._last_prune = time.monotonic()
                    self.state.prune_done()
                if self._checker is None and not self._load_keys():
                    self._set_disconnected()
                    self._sleep(backoff.next())
                    continue
                if self._claim_once():
                    backoff.reset()
                else:
                    self._set_disconnected()
                    self._sleep(backoff.next())
            except Exception as exc:  # noqa: BLE001 - the network thread must survive anything
                self._note_error(f"network loop: {safe_exception_text(exc)}")
                self._sleep(backoff.next())
        # Best-effort final delivery (short): the outbox keeps whatever does not get through.
        with contextlib.suppress(Exception):
            self._flush_outbox()

    def _sleep(self, seconds: float) -> None:
        with self._wake:
            if not self._stopping.is_set():
                self._wake.wait(seconds)

    def _set_disconnected(self) -> None:
        with self._lock:
            if self._phase not in (Phase.running,):
                self._phase = Phase.disconnected

    def _note_error(self, message: str) -> None:
        self.counters["errors"] += 1
        with self._lock:
            self._last_error = message
        log.warning("%s", message)

    def _load_keys(self) -> bool:
        """Pinned keys: operator-supplied file, else pinned on first contact (TOFU) in the state dir."""
        jwks: Any = None
        if self.config.jwks_file is not None:
            import json

            jwks = json.loads(Path(self.config.jwks_file).read_text())
        else:
            jwks = self.state.pinned_jwks()
            if jwks is None:
                try:
                    resp = self._reports.request("GET", "/v1/keys")
                except TransportError as exc:
                    self._note_error(f"fetching keys: {exc}")
                    return False
                if resp.status != 200:
                    self._note_error(f"fetching keys: HTTP {resp.status}")
                    return False
                try:
                    keys_from_jwks(resp.body)
                except ValueError as exc:
                    self._note_error(f"controller keys unusable: {exc}")
                    return False
                self.state.pin_jwks(resp.body)
                log.info("pinned %d controller signing key(s) in %s", len(resp.body["keys"]), self.state.root)
                jwks = resp.body
        # The claim journal is the persisted replay record (record_claim refuses a known claim id and
        # the checker demands jti == claim_id); the checker's own cache stays in memory, a second check.
        self._checker = EnvelopeChecker(keys_from_jwks(jwks), self.worker_id, self.config.policy_dir)
        return True

    def _claim_once(self) -> bool:
        """One long-poll. True when the controller answered sensibly (job or 204)."""
        with self._lock:
            self._phase = Phase.polling
            stage = self.stage_name
        body = {"worker_id": self.worker_id, "labels": list(self.config.labels), "stage": stage}
        wait = self.config.poll_wait_s
        try:
            resp = self._claims.request(
                "POST",
                "/v1/workers/claim",
                body=body,
                query={"wait_s": wait},
                timeout_s=wait + self.config.http_timeout_s,
            )
        except TransportError as exc:
            if self._stopping.is_set():
                return True
            self.counters["garbage"] += "non-JSON" in str(exc) or "exceeds" in str(exc)
            self._note_error(f"claim: {exc}")
            return False
        if resp.status == 204:
            with self._lock:
                self._phase = Phase.idle
            return True
        if resp.status != 200:
            self._note_error(f"claim: HTTP {resp.status} {resp.error_code() or ''}".rstrip())
            return False
        self._accept(resp)
        return True

    def _accept(self, resp: Response) -> None:
        now = time.time()
        try:
            raw = parse_claim(resp.body)
        except MalformedClaim as exc:
            self.counters["garbage"] += 1
            self._note_error(f"ignored a malformed claim response: {exc}")
            self._sleep(self.config.backoff_initial_s)
            return
        except ClaimRefused as exc:
            job_id, claim_id = resp.body["job_id"], resp.body["claim_id"]
            stub = Job(job_id, claim_id, "", None, None, {}, now)
            self._refuse(stub, exc, journal=True)
            return
        stub = Job(raw.job_id, raw.claim_id, raw.code, None, raw.timeout_s, {}, now)
        if not self.state.record_claim(raw.claim_id, raw.job_id, None):
            self._refuse(stub, ClaimRefused("replayed", "this claim id was already received"), journal=False)
            return
        self.counters["claimed"] += 1
        try:
            assert self._checker is not None
            job = self._checker.check(raw, now=now)
        except ClaimRefused as exc:
            self._refuse(stub, exc, journal=False)
            return
        with self._wake:
            self._active = job
            self._active_since = time.monotonic()
            self._pending = job
            self._phase = Phase.running
            self._wake.notify_all()
        log.info("claimed job %s (policy %s)", job.job_id, job.policy.name)

    def _refuse(self, job: Job, exc: ClaimRefused, *, journal: bool) -> None:
        self.counters["rejected"] += 1
        log.warning("refused job %s: %s", job.job_id, exc)
        if journal and not self.state.record_claim(job.claim_id, job.job_id, None):
            return
        # An envelope that expired in transit is retryable (the controller re-queues "not_started");
        # every other refusal (signature, code, policy, audience, replay) is final.
        result = simple_result(
            "rejected",
            "not_started" if exc.reason == "expired" else "EnvelopeRejected",
            f"{exc.reason}: {exc.message}",
            claim_id=job.claim_id,
            worker_id=self.worker_id,
            claimed_at=job.claimed_at,
            started_at=None,
        )
        self._finish(job, result)

    def _heartbeat(self, job: Job) -> None:
        with self._lock:
            stage = self.stage_name
        body = {
            "worker_id": self.worker_id,
            "job_id": job.job_id,
            "claim_id": job.claim_id,
            "stage": stage,
            "state": "running",
        }
        try:
            resp = self._reports.request("POST", "/v1/workers/heartbeat", body=body)
        except TransportError as exc:
            self._note_error(f"heartbeat: {exc}")
            return
        if resp.status != 200:
            self._note_error(f"heartbeat: HTTP {resp.status}")
        elif isinstance(resp.body, dict) and resp.body.get("cancel") is True and not job.extra.get("cancelled"):
            job.extra["cancelled"] = True
            log.warning(
                "controller cancelled job %s: it runs to its end or limit, its delta will not be applied", job.job_id
            )

    def _flush_outbox(self, timeout_s: float | None = None) -> bool:
        """Deliver every stored result. False when the controller is unreachable (retry later)."""
        with self._lock:
            self._outbox_dirty = False  # cleared first: a result finished during the flush re-sets it
            pending = list(self._outbox)
            self._outbox_count = len(pending)
        for claim_id, job_id, body, _durable in pending:
            try:
                resp = self._reports.request("POST", f"/v1/jobs/{job_id}/result", body=body, timeout_s=timeout_s)
            except TransportError as exc:
                self._note_error(f"report {job_id}: {exc}")
                self._undelivered()
                return False
            code = resp.error_code()
            if resp.status == 200 or (resp.status == 409 and code == "already_reported"):
                self._acknowledged(claim_id)
                self.counters["reported"] += 1
            elif resp.status in (400, 404, 409, 422):
                # Permanent: the controller will never accept it (job no longer ours, e.g. already lost).
                log.warning("report %s refused for good (HTTP %s %s); dropping it", job_id, resp.status, code)
                self._acknowledged(claim_id)
            else:
                self._note_error(f"report {job_id}: HTTP {resp.status} {code or ''}".rstrip())
                self._undelivered()
                return False
        return True

    def _acknowledged(self, claim_id: str) -> None:
        self.state.acknowledge(claim_id)
        with self._lock:
            self._outbox = [item for item in self._outbox if item[0] != claim_id]
            self._outbox_count = len(self._outbox)

    def _undelivered(self) -> None:
        """Delivery failed: keep retrying, and make every waiting result survive a power loss first."""
        self._outbox_dirty = True
        self._make_outbox_durable()

    def _make_outbox_durable(self) -> None:
        with self._lock:
            todo = [item for item in self._outbox if not item[3]]
        for claim_id, _job, _body, _durable in todo:
            try:
                self.state.make_durable(claim_id)
            except OSError as exc:
                self._note_error(f"outbox fsync {claim_id}: {safe_exception_text(exc)}")
                continue
            with self._lock:
                self._outbox = [(c, j, b, d or c == claim_id) for c, j, b, d in self._outbox]
