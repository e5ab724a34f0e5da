"""The job service: what every route (v1 and the seed aliases) does, in one place so they cannot drift.

Why through `Backend` (controller/backend.py): the same service runs on the embedded SQLite file and on
PostgreSQL shared by several replicas, so it never assumes a single write lock. A state change and its
audit record are ONE unit of work (`backend.unit()`): they commit together or not at all, and a request
pays one BEGIN/COMMIT, not two. Wake-ups (in-process, and NOTIFY to the other replicas) are sent only
after the commit (`backend.after_commit`), so a woken claimer or waiter always finds what woke it; and
because NOTIFY is best-effort, every long wait re-reads the store at least every `notifier.poll_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from kitgate.controller.backend import Backend, SchemaStatus
from kitgate.controller.domain_errors import (
    ClaimLost,
    IdempotencyConflict,
    ImageNotFound,
    JobNotFound,
    NotClaimed,
    WorkerIdTaken,
)
from kitgate.controller.errors import ApiError
from kitgate.controller.events import EventBus
from kitgate.controller.images import StoredImage
from kitgate.controller.metrics import Metrics
from kitgate.controller.models import REPORTABLE_STATUSES, CodeExecuteRequest, ExecutionResult
from kitgate.controller.notify import Notifier
from kitgate.controller.settings import Settings
from kitgate.controller.store import JobRecord, NewJob
from kitgate.protocol.wire import APPROVALS_WAITING_CAP

_INLINE_COMPILE_BYTES = 16_384  # bigger sources are compiled off the event loop
_POLICY_TTL_S = 1.0
_RETENTION_BATCH = 200  # finished jobs deleted per transaction (a few ms of write lock)
_RETENTION_BATCHES = 10  # per sweep (one per lost_check_interval_s): up to 2000 jobs per second by default
log = logging.getLogger("kitgate.jobs")


class PrincipalLike(Protocol):
    sub: str
    scopes: frozenset[str]

    def may_use_policy(self, name: str) -> bool: ...


@dataclass(frozen=True)
class Caller:
    """Who is asking, for authorization and the audit trail."""

    principal: Any
    ip: str | None
    request_id: str | None

    @property
    def sub(self) -> str:
        return str(self.principal.sub)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.principal.scopes

    @property
    def credential(self) -> str:
        """What a worker id is bound to: the token or API key itself, not the name it carries."""
        return f"{self.principal.kind}:{self.principal.token_id}"

    @property
    def policies(self) -> frozenset[str] | None:
        """The policies this credential may use (None: any); a worker claims only such jobs."""
        return self.principal.policies


class JobService:
    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        notifier: Notifier,
        metrics: Metrics,
        security: Any,
        events: EventBus | None = None,
    ) -> None:
        self.settings = settings
        self.events = events if events is not None else EventBus()
        self._output_used: dict[str, _LiveBudget] = {}  # job id -> what its live output has used so far
        self.backend = backend
        self.store = backend.jobs
        self.images = backend.images  # the PNGs jobs asked for (render), beside the jobs table
        self.notifier = notifier
        self.metrics = metrics
        self.security = security
        self._policies: dict[str, tuple[float, Any]] = {}
        self._limits: dict[int, tuple[Any, dict[str, Any]]] = {}  # id(policy) -> (policy, its limits as a dict)

    # ---- policies ----------------------------------------------------------------------------
    def load_policy(self, name: str) -> Any:
        """Policies are re-read at most once per second: edits apply quickly, submits stay cheap."""
        from kitgate.sandbox.policy import PolicyError, list_policies, load_policy

        now = time.monotonic()
        cached = self._policies.get(name)
        if cached is not None and now - cached[0] < _POLICY_TTL_S:
            return cached[1]
        try:
            policy = load_policy(name, self.settings.policy_dir, self.settings.asset_root)
            if len(self._policies) > 256:
                self._policies.clear()
            self._policies[name] = (now, policy)
            return policy
        except PolicyError:
            known = sorted(p.name for p in list_policies(self.settings.policy_dir, self.settings.asset_root))
            raise ApiError(
                422,
                "unknown_policy",
                f"policy {name!r} does not exist; known policies: {', '.join(known) or 'none'}",
                {"policy": name, "known": known},
            ) from None

    def usable_policies(self, caller: Caller) -> list[Any]:
        """Every installed policy this caller's credential may use, sorted by name."""
        from kitgate.sandbox.policy import list_policies

        return [
            p for p in list_policies(self.settings.policy_dir, self.settings.asset_root)
            if caller.principal.may_use_policy(p.name)
        ]

    async def policy_for(self, caller: Caller, name: str | None) -> Any:
        name = name or self.settings.default_policy
        if not caller.principal.may_use_policy(name):
            await self._audit("policy_denied", caller, policy=name)
            raise ApiError(403, "policy_not_allowed", f"this token may not use policy {name!r}", {"policy": name})
        return self.load_policy(name)

    async def compile(self, code: str, policy: Any) -> Any:
        from kitgate.sandbox.compile.compiler import compile_source

        if len(code) <= _INLINE_COMPILE_BYTES:
            return compile_source(code, policy)
        return await run_in_threadpool(compile_source, code, policy)

    def check_size(self, code: str, policy: Any) -> None:
        size = len(code.encode("utf-8", "surrogatepass"))
        limit = int(policy.limits.source_bytes)
        if size > limit:
            raise ApiError(
                413,
                "code_too_large",
                f"code is {size} bytes; policy {policy.name!r} allows at most {limit} bytes",
                {"size": size, "limit": limit, "policy": policy.name},
            )

    def check_render(self, req: CodeExecuteRequest, policy: Any) -> None:
        """A picture over the policy's [render] caps is refused now, not discovered by the worker later."""
        from kitgate.protocol.render import over_caps

        if req.render is None:
            return
        problem = over_caps(req.render.model_dump(), policy.render)
        if problem is not None:
            message, hint = problem
            code = "render_not_allowed" if not policy.render.allowed else "render_too_large"
            raise ApiError(422, code, f"{message} (policy {policy.name!r}); {hint}",
                           {"policy": policy.name, "render": req.render.model_dump(), "hint": hint,
                            "caps": policy.render.to_dict()})

    # ---- submit ------------------------------------------------------------------------------
    async def submit(self, req: CodeExecuteRequest, caller: Caller, wait_s: float | None) -> tuple[JobRecord, bool]:
        """Returns (job, finished). Compiles before storing: a violation stores nothing."""
        policy = await self.policy_for(caller, req.policy)
        self.check_size(req.code, policy)
        self.check_render(req, policy)
        labels = sorted(set(req.labels))
        if len(labels) > self.settings.max_labels:
            raise ApiError(
                422, "too_many_labels", f"{len(labels)} labels given; at most {self.settings.max_labels} allowed"
            )
        sha = hashlib.sha256(req.code.encode("utf-8", "surrogatepass")).hexdigest()
        if req.idempotency_key is not None:
            existing = await self.store.find_idempotent(caller.sub, req.idempotency_key)
            if existing is not None:
                return await self._idempotent(existing, sha, wait_s)
        compiled = await self.compile(req.code, policy)
        if not compiled.ok:
            self.metrics.violations.labels(policy.name).inc()
            violations = [v.to_dict() for v in compiled.violations]
            await self._audit("job_refused", caller, policy=policy.name, code_sha256=sha,
                              violations=len(violations), **self._code_field(req.code))
            first = violations[0] if violations else {}
            raise ApiError(
                422,
                "policy_violation",
                f"code violates policy {policy.name!r}: line {first.get('line')}: {first.get('message', '')}"[:500],
                {"policy": policy.name, "violations": violations},
            )
        timeout = float(policy.limits.timeout_s)
        if req.timeout_s is not None:
            timeout = min(timeout, req.timeout_s)  # the policy's limit is a ceiling, never raised by a request
        retries = self.settings.default_max_retries if req.max_retries is None else req.max_retries
        async with self.backend.unit():
            job, created = await self._create(req, caller, policy, sha, labels, timeout, retries)
        if not created:
            return await self._idempotent(job, sha, wait_s)
        self.metrics.submitted.labels(policy.name).inc()
        if wait_s:
            job = await self.wait(job.id, min(wait_s, self.settings.max_wait_s))
        return job, job.terminal

    async def _create(
        self, req: CodeExecuteRequest, caller: Caller, policy: Any, sha: str, labels: list[str], timeout: float,
        retries: int,
    ) -> tuple[JobRecord, bool]:
        """Insert the job and its `job_submitted` record (inside the caller's unit); its live events and the
        queue's wake-up follow the commit."""
        job, created = await self.store.create(
            NewJob(
                owner=caller.sub,
                policy=policy.name,
                policy_digest=policy.digest,
                code=req.code,
                code_sha256=sha,
                labels=labels,
                timeout_s=timeout,
                limits=self._limits_of(policy) | ({"render": req.render.model_dump()} if req.render else {}),
                max_retries=retries,
                requires_approval=bool(policy.requires_approval),
                idempotency_key=req.idempotency_key,
            )
        )
        if created:
            await self._audit("job_submitted", caller, job_id=job.id, policy=policy.name, code_sha256=sha,
                              status=job.status, **self._code_field(req.code))
            self.backend.after_commit(lambda: self._submitted(job))
        return job, created

    def _submitted(self, job: JobRecord) -> None:
        """After a new job committed: its live events, and the wake-up of the claimers when it is queued."""
        self._emit("created", job, status=job.status, policy=job.policy, labels=list(job.labels))
        if job.status == "pending_approval":
            self._emit("approval_needed", job, policy=job.policy)
        if job.status == "queued":
            self.notifier.queue_changed()

    async def _idempotent(self, job: JobRecord, sha: str, wait_s: float | None) -> tuple[JobRecord, bool]:
        if job.code_sha256 != sha:
            raise IdempotencyConflict(job.id)
        if wait_s and not job.terminal:
            job = await self.wait(job.id, min(wait_s, self.settings.max_wait_s))
        return job, job.terminal

    async def wait(self, job_id: str, timeout: float) -> JobRecord:
        """Answer the moment the job reaches a terminal state (or when the timeout passes).

        A wake-up from this replica carries the stored record; one from another replica (NOTIFY) carries
        none, so the job is read again. NOTIFY is best-effort: with `notifier.poll_s` set, the job is also
        re-read at least that often, whatever woke (or failed to wake) this waiter."""
        deadline = time.monotonic() + max(timeout, 0.0)
        event = self.notifier.job_event(job_id)  # taken before looking, so no wake-up is missed
        try:
            job = _must(await self.store.get(job_id), job_id)
            while not job.terminal:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return job
                await self.notifier.wait_job(event, self.notifier.wait_cap(remaining))
                finished = getattr(event, "job", None)  # the record the report stored, handed over by the wake-up
                if finished is not None:
                    return finished
                if event.is_set():  # woken without a record (another replica): a fresh event for the next wait
                    self.notifier.release_job_event(job_id, event)
                    event = self.notifier.job_event(job_id)
                job = _must(await self.store.get(job_id), job_id)
                if self.notifier.stopping.is_set():  # the server is stopping: answer with what is stored now
                    return job
            return job
        finally:
            self.notifier.release_job_event(job_id, event)

    # ---- reads and owner actions ---------------------------------------------------------------
    async def list_jobs(
        self, caller: Caller, limit: int, before_seq: int | None = None, status: str | None = None,
        policy: str | None = None, owner: str | None = None,
    ) -> list[JobRecord]:
        """The caller's jobs (an admin's: every owner's, or `owner`'s), newest first, `before_seq` the keyset
        cursor. A non-admin's `owner` is always the caller."""
        who = (owner or None) if caller.is_admin else caller.sub
        return await self.store.list(who, limit, before_seq, status, policy)

    async def last_job(self, caller: Caller) -> JobRecord:
        """The caller's most recent job (an admin's: anyone's)."""
        job = await self.store.last(None if caller.is_admin else caller.sub)
        if job is None:
            raise JobNotFound("", "you have not submitted any job yet")
        return job

    async def workers(self) -> list[dict[str, Any]]:
        """Every worker the store has seen (any replica's), most recently seen first (the admin view)."""
        return await self.store.workers()

    async def live_workers(self) -> list[dict[str, Any]]:
        """Workers seen within the presence window that did not say they stopped."""
        return await self.store.live_workers(self.presence_window_s())

    async def job_counts(self) -> dict[str, int]:
        """How many jobs are in each status."""
        return await self.store.counts()

    async def store_ready(self) -> bool:
        """Whether the job store answers a read (for /readyz); never raises."""
        try:
            return bool(await self.store.ping())
        except Exception:  # noqa: BLE001 - a locked, missing or unreachable database is "not ready", not a 500
            return False

    async def schema_status(self) -> SchemaStatus | None:
        """The database's schema version and the one this code needs (for /readyz); None when the database
        does not answer. Never raises."""
        try:
            return await self.backend.schema_status()
        except Exception:  # noqa: BLE001 - an unreachable database is "not ready", not a 500
            return None

    async def visible(self, job_id: str, caller: Caller) -> JobRecord:
        """A job the caller may see; other owners' jobs are indistinguishable from missing ones."""
        job = await self.store.get(job_id)
        if job is None or (job.owner != caller.sub and not caller.is_admin):
            raise JobNotFound(job_id)
        return job

    async def cancel(self, job_id: str, caller: Caller) -> JobRecord:
        """Only a queued or pending job is cancelled (a conditional update: a claim that won the race wins,
        JobNotCancellable); the change and its audit record commit together."""
        await self.visible(job_id, caller)
        async with self.backend.unit():
            job = await self.store.cancel(job_id)
            await self._audit("job_cancelled", caller, job_id=job_id)
            self.backend.after_commit(lambda: self._ended(job))
        return job

    async def approve(self, job_id: str, caller: Caller) -> JobRecord:
        async with self.backend.unit():
            job = await self.store.approve(job_id)
            await self._audit("job_approved", caller, job_id=job_id)
            self.backend.after_commit(lambda: self._approved(job, caller.sub))
        return job

    def _approved(self, job: JobRecord, by: str) -> None:
        self._emit("approved", job, by=by)
        self.notifier.queue_changed()

    async def reject(self, job_id: str, reason: str, caller: Caller) -> JobRecord:
        async with self.backend.unit():
            job = await self.store.reject(job_id, reason)
            await self._audit("job_rejected", caller, job_id=job_id, reason=reason)
            self.backend.after_commit(lambda: self._rejected(job, caller.sub, reason))
        return job

    def _rejected(self, job: JobRecord, by: str, reason: str) -> None:
        self._emit("rejected", job, by=by, reason=reason)
        self._ended(job)

    def _ended(self, job: JobRecord) -> None:
        """After a job became terminal without a report (cancelled, rejected, lost): its `finished` event,
        the metric, and the wake-up of its waiters (here and, through the notifier, on other replicas)."""
        self._finished(job)
        self.metrics.finished.labels(job.status).inc()
        self.notifier.job_finished(job.id, job)

    async def approvals_waiting(self, labels: list[str], caller: Caller) -> int:
        """How many jobs awaiting approval this worker could claim once approved (its labels, its credential's
        policies), up to APPROVALS_WAITING_CAP. A count only: a worker credential may not read jobs."""
        return await self.store.count_awaiting_approval(labels, caller.policies, APPROVALS_WAITING_CAP)

    def presence_window_s(self) -> float:
        """A long-polling worker is seen once per poll, a busy one once per heartbeat: allow both, with slack."""
        return self.settings.claim_max_wait_s + self.settings.heartbeat_timeout_s

    async def progress(self, job_id: str, caller: Caller) -> dict[str, Any]:
        """Where a job stands and whether a connected worker could take it (counts only, never worker ids
        of other callers' machines, except the one running this caller's job)."""
        job = await self.visible(job_id, caller)
        now = time.time()
        live = await self.store.live_workers(self.presence_window_s())
        wanted = set(job.labels)
        matching = [w for w in live if wanted <= set(w["labels"])]
        view: dict[str, Any] = {
            "job_id": job.id, "status": job.status, "server_time": now, "workers_connected": len(live),
            "workers_matching": len(matching), "stages_matching": sorted({w["stage"] for w in matching if w["stage"]}),
        }
        if job.status == "queued":
            view["position"] = await self.store.queue_position(job)
        if job.worker_id is not None:  # running, or the worker that answered
            view["worker_id"] = job.worker_id
            view["worker_stage"] = await self.store.worker_stage(job.worker_id)
        if job.status == "running":
            view["running_s"] = max(0.0, now - (job.claimed_at or now))
        return view

    # ---- worker side -------------------------------------------------------------------------
    async def claim(
        self,
        worker_id: str,
        labels: list[str],
        wait_s: float,
        caller: Caller,
        gone: asyncio.Future[None] | None = None,
        stage: str | None = None,
        *,
        looked: bool = False,
    ) -> tuple[JobRecord, str] | None:
        """Long-poll. `gone` completes when the worker hangs up: a dead poll must never take a job. `stage` (what
        the worker serves) is recorded with its labels, so clients can name the stage that answered. `looked`:
        the caller has just tried a claim (and recorded the worker as seen), so the first look is read-only.
        Each wait is capped by the notifier's safety poll when wake-ups cross replicas (NOTIFY may be lost)."""
        deadline = time.monotonic() + min(max(wait_s, 0.0), self.settings.claim_max_wait_s)
        woken = looked  # the first look is a claim, so the worker's last_seen is recorded once per poll
        while True:
            if (gone is not None and gone.done()) or self.notifier.stopping.is_set():
                self.metrics.claim_polls.labels("abandoned").inc()
                return None
            event = self.notifier.queue_event()  # taken before looking, so no wake-up is missed
            if woken and not await self.store.has_claimable(labels, caller.policies):
                # Every waiting worker is woken by a new job; those the job is not for (or that lost the
                # race for it) look without taking the write lock and go back to waiting.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.metrics.claim_polls.labels("empty").inc()
                    return None
                await self.notifier.wait_queue(event, self.notifier.wait_cap(remaining), gone)
                continue
            woken = True
            async with self.as_worker(worker_id, caller):
                claimed = await self._claim_now(worker_id, labels, caller, stage)
            if claimed is not None:
                self._claimed(claimed[0], worker_id)
                return claimed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.metrics.claim_polls.labels("empty").inc()
                return None
            await self.notifier.wait_queue(event, self.notifier.wait_cap(remaining), gone)

    async def _claim_now(self, worker_id: str, labels: list[str], caller: Caller,
                   stage: str | None) -> tuple[JobRecord, str] | None:
        """One claim attempt and its audit record, inside the caller's `as_worker` unit."""

        def sign(job: JobRecord, worker: str, attempt: int) -> tuple[str, str]:
            return self.security.sign_envelope(
                job_id=job.id,
                code_sha256=job.code_sha256,
                policy=job.policy,
                policy_digest=job.policy_digest,
                limits=job.limits,
                timeout_s=job.timeout_s,
                worker_id=worker,
                attempt=attempt,
            )

        claimed = await self.store.claim(worker_id, labels, sign, claimed_by=caller.sub, policies=caller.policies,
                                         stage=stage)
        if claimed is not None:
            await self._audit("job_claimed", caller, job_id=claimed[0].id, worker_id=worker_id,
                              attempt=claimed[0].attempts)
        return claimed

    def _claimed(self, job: JobRecord, worker_id: str) -> None:
        """After a claim committed: metrics and the live event."""
        if job.queued_at is not None and job.claimed_at is not None:
            self.metrics.claim_wait.observe(max(0.0, job.claimed_at - job.queued_at))
        self.metrics.claim_polls.labels("job").inc()
        self._emit("claimed", job, worker=worker_id, attempt=job.attempts)

    async def report_and_claim(
        self,
        job_id: str,
        body: ExecutionResult,
        caller: Caller,
        labels: list[str],
        stage: str | None,
        wait_s: float,
        gone: asyncio.Future[None] | None = None,
    ) -> tuple[JobRecord, tuple[JobRecord, str] | None]:
        """A worker's result and its next claim in one request (`POST /v1/jobs/{id}/result?next=1`).

        The report, and a claim when a job is already waiting, are ONE transaction: both commit or neither
        does. When none is waiting, the report commits first and the claim long-polls like
        `POST /v1/workers/claim`. A report that is refused (not the claim holder, already reported, lost)
        raises before anything is claimed. If the answer never reaches the worker, its result is re-sent
        (`already_reported`, nothing claimed then) and the job claimed for it stops heartbeating: `lost`,
        never run twice, exactly as a claim response lost in transit.
        """
        claimed: list[tuple[JobRecord, str] | None] = []

        async def claim_next() -> None:
            claimed.append(await self._claim_now(str(body.worker_id), labels, caller, stage))

        job = await self.report(job_id, body, caller, then=claim_next)
        first = claimed[0] if claimed else None
        if first is not None:
            self._claimed(first[0], str(body.worker_id))
            return job, first
        if wait_s <= 0:
            self.metrics.claim_polls.labels("empty").inc()
            return job, None
        return job, await self.claim(str(body.worker_id), labels, wait_s, caller, gone, stage, looked=True)

    async def report(self, job_id: str, body: ExecutionResult, caller: Caller, *,
                     then: Callable[[], Awaitable[None]] | None = None) -> JobRecord:
        """Store a worker's result; `then` runs inside the same unit, after it (the next claim)."""
        if body.status not in REPORTABLE_STATUSES:
            allowed = ", ".join(sorted(s.value for s in REPORTABLE_STATUSES))
            raise ApiError(422, "invalid_status", f"a worker may report only {allowed}; got {body.status.value!r}")
        if body.claim_id is None or body.worker_id is None:
            raise ApiError(422, "claim_required", "a result must carry the worker_id and claim_id of its claim")
        result = body.model_dump(mode="json")
        png = await self._take_picture(job_id, result, body.render.png_base64 if body.render is not None else None)
        worker_id = body.worker_id
        async with self.as_worker(worker_id, caller):
            job, requeued = await self.store.report(job_id, worker_id, body.claim_id, result, reporter=caller.sub)
            if png is not None and not requeued:  # same unit: the picture and the result its entry describes
                await self.images.put(job_id, png, result["render"]["width"], result["render"]["height"],
                                      result["render"]["sha256"])
            await self._audit(
                "job_requeued" if requeued else "job_reported",
                caller,
                job_id=job_id,
                worker_id=worker_id,
                status=job.status,
            )
            self.backend.after_commit(lambda: self._reported(job, worker_id, requeued))
            if then is not None:
                await then()
        return job

    def _reported(self, job: JobRecord, worker_id: str, requeued: bool) -> None:
        """After a report committed: a requeued job wakes the claimers, a finished one its waiters."""
        if requeued:
            self._output_used.pop(job.id, None)
            self._emit("requeued", job, worker=worker_id, reason="never_started")
            self.notifier.queue_changed()
            return
        self._finished(job)
        self.metrics.finished.labels(job.status).inc()
        if job.finished_at is not None:
            self.metrics.e2e_latency.observe(max(0.0, job.finished_at - job.created_at))
        self.notifier.job_finished(job.id, job)

    async def _take_picture(self, job_id: str, result: dict[str, Any], png_base64: str | None) -> bytes | None:
        """Move a reported PNG out of the result (it is stored beside the job, not inside its JSON) after
        checking it is a PNG of the size the job asked for and within KITGATE_MAX_IMAGE_BYTES. A picture
        that fails a check becomes a render error in the result; the job's own status is never changed."""
        from kitgate.protocol import render as wire

        entry = result.get("render")
        if not isinstance(entry, dict):
            result.pop("render", None)
            return None
        png = wire.decode_png({"png_base64": png_base64}) if entry.get("ok") else None
        entry.pop("png_base64", None)
        if not entry.get("ok"):
            return None
        job = await self.store.get(job_id)
        asked = (job.limits.get("render") if job is not None else None) or None
        limit = self.settings.max_image_bytes
        size = wire.png_size(png) if png is not None else None
        problem: dict[str, Any] | None = None
        if asked is None:
            problem = wire.error(wire.BAD_IMAGE, "the job did not ask for a picture; the worker's was dropped")
        elif png is None or size is None:
            problem = wire.error(wire.BAD_IMAGE, "the worker sent a picture that is not a PNG")
        elif len(png) > limit:
            problem = wire.error(wire.IMAGE_TOO_LARGE,
                                 f"the picture is {len(png):,} bytes; this controller stores at most {limit:,}",
                                 "ask for a smaller width/height (or raise KITGATE_MAX_IMAGE_BYTES)")
        elif size != (asked["width"], asked["height"]):
            problem = wire.error(wire.BAD_IMAGE, f"the picture is {size[0]}x{size[1]}, the job asked for "
                                                 f"{asked['width']}x{asked['height']}")
        if problem is not None or png is None or size is None:
            result["render"] = problem
            return None
        entry.update(width=size[0], height=size[1], bytes=len(png), sha256=hashlib.sha256(png).hexdigest())
        return png

    async def image(self, job_id: str, caller: Caller) -> StoredImage:
        """A job's picture, with the job's visibility; ImageNotFound says why there is none."""
        job = await self.visible(job_id, caller)
        stored = await self.images.get(job.id)
        if stored is not None:
            return stored
        if not job.limits.get("render"):
            raise ImageNotFound(job.id, f"job {job.id!r} did not ask for a picture",
                                {"hint": 'submit the job with "render": {"width": 512, "height": 512}'})
        if not job.terminal:
            raise ImageNotFound(job.id, f"job {job.id!r} is {job.status}; its picture is taken when it has run",
                                {"status": job.status, "hint": "wait for the job to finish, then fetch again"})
        entry = (job.result or {}).get("render") or {}
        err = entry.get("error") or {"code": "NotRendered", "message": f"the job ended {job.status}", "hint": ""}
        raise ImageNotFound(job.id, f"job {job.id!r} has no picture: {err.get('code')}: {err.get('message')}",
                            {"render": err, "hint": err.get("hint") or "see the job's result.render"})

    async def heartbeat(self, body: Any, caller: Caller) -> bool:
        async with self.as_worker(body.worker_id, caller):
            return await self.store.heartbeat(
                body.worker_id, body.job_id, body.claim_id, body.stage, body.state, reporter=caller.sub
            )

    @contextlib.asynccontextmanager
    async def as_worker(self, worker_id: str, caller: Caller) -> AsyncIterator[None]:
        """One unit of work in which `caller` acts as `worker_id`: the id must be unbound, bound to this
        credential, or bound to one that is no longer valid (then it moves here, audited)."""
        try:
            async with self.backend.unit():
                previous = await self.store.bind_worker(worker_id, caller.credential)
                if previous is not None:
                    await self._audit("worker.rebound", caller, worker_id=worker_id, previous=previous,
                                      credential=caller.credential)
                yield
        except WorkerIdTaken:
            await self._audit("worker.identity_denied", caller, worker_id=worker_id, credential=caller.credential)
            raise

    async def release_worker(self, worker_id: str, caller: Caller) -> bool:
        async with self.backend.unit():
            previous = await self.store.release_worker(worker_id)  # WorkerNotFound: never seen
            await self._audit("worker.released", caller, worker_id=worker_id, previous=previous)
        return previous is not None

    async def sweep_lost(self) -> list[JobRecord]:
        """Running jobs whose worker stopped heartbeating become `lost`, each with its `job_lost` record in
        the same unit; their events, metrics and waiters' wake-ups follow the commit."""
        async with self.backend.unit():
            lost = await self.store.mark_lost(self.settings.heartbeat_timeout_s)
            for job in lost:
                await self.security.audit.record(
                    "job_lost", actor="controller", ip=None, request_id=None, job_id=job.id, worker_id=job.worker_id
                )
            self.backend.after_commit(lambda: self._lost(lost))
        return lost

    def _lost(self, lost: list[JobRecord]) -> None:
        for job in lost:
            log.warning("job lost", extra={"fields": {"job_id": job.id, "worker_id": job.worker_id}})
            self._ended(job)

    async def sweep_retention(self) -> int:
        """Delete terminal jobs that finished more than `job_retention_days` ago (0: keep them forever), with
        their pictures, `_RETENTION_BATCH` rows per transaction so the write lock is held briefly, and at most
        `_RETENTION_BATCHES` batches per sweep (a backlog drains over the next sweeps). Audit rows stay."""
        days = self.settings.job_retention_days
        if days <= 0:
            return 0
        before = self.store.clock() - days * 86400.0
        purged = 0
        for _ in range(_RETENTION_BATCHES):
            n = await self.store.purge_finished(before, _RETENTION_BATCH)
            purged += n
            if n < _RETENTION_BATCH:
                break
            await asyncio.sleep(0)  # let requests in between batches
        if purged:
            log.info("old jobs deleted", extra={"fields": {"jobs": purged, "retention_days": days}})
        return purged

    async def sweep_forever(self, stop: asyncio.Event) -> None:
        """The one periodic task: the heartbeat clock, not a work poll; it also applies job retention.

        Each round runs only on the replica that holds the `sweeper` leadership now (PostgreSQL: an
        advisory lock, so two replicas never mark the same jobs lost twice; SQLite: always this one)."""
        while not stop.is_set():
            try:
                async with self.backend.leader("sweeper") as lead:
                    if lead:
                        await self._sweep_round()
            except Exception:  # an unreachable database must not kill the sweeper: the next round retries
                log.exception("sweeper round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.lost_check_interval_s)

    async def _sweep_round(self) -> None:
        try:
            await self.sweep_lost()
        except Exception:  # a locked or full disk must not kill the sweeper
            log.exception("lost-job sweep failed")
        try:
            await self.sweep_retention()
        except Exception:
            log.exception("job retention sweep failed")

    # ---- live output (POST /v1/jobs/{id}/output) ------------------------------------------------
    async def relay_output(self, job_id: str, body: Any, caller: Caller) -> dict[str, int]:
        """Publish a running job's `started` marker and printed text as live events, for its claim holder only.

        Read-only on the store: the claim is checked like a result report (job running, same worker id,
        claim id and claiming principal), so a job id alone is not enough. Text is capped per job by the
        policy's `output_bytes` (the budget of the result's output too); past it, one event marked
        `truncated` is published and later text is counted, never published. Live output is a view: the
        result's `output` stays the record."""
        job = await self.store.get(job_id)
        if job is None:
            raise NotClaimed(job_id, body.worker_id)
        holds = (
            job.claim_id is not None
            and body.claim_id == job.claim_id
            and body.worker_id == job.worker_id
            and job.claimed_by == caller.sub
            # the worker id must be bound to this very credential, as for a report (as_worker): another
            # token of the same subject holding the claim id is not the claim's holder
            and await self.store.worker_credential(body.worker_id) == caller.credential
        )
        if not holds:
            raise NotClaimed(job_id, body.worker_id)
        if job.status != "running":
            raise ClaimLost(job_id, job.status)
        budget = int((job.limits or {}).get("output_bytes", 65_536))
        state = self._output_used.get(job_id)
        if state is None or state.claim_id != job.claim_id:
            state = self._output_used[job_id] = _LiveBudget(job.claim_id)
            if len(self._output_used) > 10_000:  # finished jobs are removed; this bounds never-reported ones
                self._output_used.pop(next(iter(self._output_used)))
        if body.started and not state.started:  # once per claim, however often a worker says it
            state.started = True
            self._emit("started", job, worker=job.worker_id, attempt=job.attempts)
        raw = (body.text or "").encode("utf-8", "surrogatepass")
        room = max(0, budget - state.used)
        kept = raw[:room].decode("utf-8", "ignore").encode("utf-8")  # never split a character
        over = len(raw) > len(kept)
        # Events are bounded too, not only bytes: a worker cannot evict other jobs' events from the
        # retention ring with a stream of empty chunks.
        if (kept or body.dropped or (over and not state.capped)) and state.events < max(256, budget // 64):
            data: dict[str, object] = {"seq": body.seq, "text": kept.decode("utf-8")}
            if over:
                data["truncated"] = True
            if body.dropped:
                data["dropped"] = body.dropped  # chunks the worker dropped (its queue was full) before this one
            state.events += 1
            self._emit("output", job, **data)
        state.used += len(kept)
        state.capped = state.capped or over
        return {"accepted_bytes": len(kept), "used_bytes": state.used, "budget_bytes": budget}

    # ---- helpers -----------------------------------------------------------------------------
    def _emit(self, type: str, job: JobRecord, **data: object) -> None:
        """Publish a live event for `job`; the bus never blocks and never fails a state change."""
        try:
            self.events.publish(type, job_id=job.id, owner=job.owner, data=data)
        except Exception:  # noqa: BLE001 - a live view must never break the job pipeline
            log.exception("live event publish failed")

    def _finished(self, job: JobRecord) -> None:
        """The `finished` event: status, plus the error type and duration when known."""
        self._output_used.pop(job.id, None)
        data: dict[str, object] = {"status": job.status}
        error = (job.result or {}).get("error") if isinstance(job.result, dict) else None
        if isinstance(error, dict) and error.get("type"):
            data["error_type"] = str(error["type"])
        if job.finished_at is not None and job.started_at is not None:
            data["duration_ms"] = round((job.finished_at - job.started_at) * 1000, 1)
        self._emit("finished", job, **data)

    def _limits_of(self, policy: Any) -> dict[str, Any]:
        """Policies are immutable: convert their limits once (dataclasses.asdict deep-copies, ~0.1 ms)."""
        cached = self._limits.get(id(policy))
        if cached is None or cached[0] is not policy:
            if len(self._limits) > 256:
                self._limits.clear()
            cached = (policy, _limits_dict(policy))
            self._limits[id(policy)] = cached
        return dict(cached[1])

    def _code_field(self, code: str) -> dict[str, str]:
        """The audit trail keeps the code hash; the code itself only with KITGATE_STORE_CODE_IN_AUDIT=true."""
        return {"code": code} if self.settings.store_code_in_audit else {}

    async def _audit(self, event: str, caller: Caller, **fields: Any) -> None:
        """One audit record; inside a unit, it commits with the change it describes."""
        await self.security.audit.record(event, actor=caller.sub, ip=caller.ip, request_id=caller.request_id,
                                         **fields)


@dataclass
class _LiveBudget:
    """What one claim's live output has used: bytes (capped at output_bytes), events, the started marker."""

    claim_id: str | None
    used: int = 0
    events: int = 0
    capped: bool = False
    started: bool = False


def _must(job: JobRecord | None, job_id: str) -> JobRecord:
    if job is None:
        raise JobNotFound(job_id)
    return job


def _limits_dict(policy: Any) -> dict[str, Any]:
    limits = policy.limits
    if hasattr(limits, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(limits)
    if hasattr(limits, "model_dump"):
        return dict(limits.model_dump())
    return dict(vars(limits))
