"""The worker's network thread: keys, claims, heartbeats and result delivery. It never touches a stage.

    load keys (pinned) -> long-poll a claim -> journal the claim id -> verify the signed claim
    -> offer the job to the host thread -> heartbeat while it runs -> deliver the outbox, the last
    result asking for the next job (one request per job: report + claim) -> journal the claim id ...

A claim id is journaled on disk before its job can run (never run twice), and a refused signed claim is
reported as `rejected` through the same outbox as any result.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kitgate.protocol import NOT_STARTED, JobStatus
from kitgate.protocol.errors import SIGNED_CLAIM_REJECTED
from kitgate.protocol.wire import APPROVALS_WAITING_HEADER
from kitgate.worker.config import Phase, RunnerConfig
from kitgate.worker.handoff import Handoff
from kitgate.worker.live import LiveRelay
from kitgate.worker.outbox import Outbox
from kitgate.worker.results import safe_exception_text, simple_result
from kitgate.worker.state import WorkerState
from kitgate.worker.transport import ControllerTransport, Response, TransportError
from kitgate.worker.verify import ClaimChecker, ClaimRefused, Job, MalformedClaim, keys_from_jwks, parse_claim

log = logging.getLogger("kitgate.worker")
PRUNE_EVERY_S = 3600.0


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


class Network:
    """Runs `loop()` on its own thread; `finish(job, result)` hands a refusal to the runner's journal."""

    def __init__(
        self,
        config: RunnerConfig,
        worker_id: str,
        state: WorkerState,
        handoff: Handoff,
        outbox: Outbox,
        reports: ControllerTransport,
        finish: Callable[[Job, dict[str, Any]], None],
        live: LiveRelay | None = None,
    ) -> None:
        self.config = config
        self.live = live  # the running job's printed text, sent while it runs (worker/live.py)
        self.worker_id = worker_id
        self.state = state
        self.handoff = handoff
        self.outbox = outbox
        self.reports = reports  # keys, heartbeats, results (short requests)
        self.claims = ControllerTransport(  # the long-poll has a connection of its own
            config.controller_url,
            config.token,
            timeout_s=config.http_timeout_s,
            max_response_bytes=config.max_response_bytes,
            ca_file=config.ca_file,
        )
        self.stage_name = config.stage_name
        self._finish = finish
        self._checker: ClaimChecker | None = None
        self._last_prune = time.monotonic()

    # ------------------------------------------------------------------ the loop
    def loop(self) -> None:
        backoff = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        last_hb = 0.0
        handoff = self.handoff
        while not handoff.stopping.is_set():
            try:
                if self.live is not None and self.live.pending and handoff.active is None:
                    self.live.drain(self.reports, self.worker_id, final=True)  # the job's last text, before its result
                if self.outbox.dirty:
                    # the last result asks for the next job too, when this worker could take one now
                    delivered, claim = self.outbox.deliver(claim_next=self.report_then_claim if self._may_claim()
                                                           else None)
                    if not delivered:
                        self._retry_later(backoff)
                        continue
                    if claim is not None:
                        self.accept(Response(200, claim))
                        backoff.reset()
                        continue
                with handoff.lock:
                    active, paused = handoff.active, handoff.paused
                if active is not None:
                    # the claim itself counts as the first heartbeat
                    if time.monotonic() - max(last_hb, handoff.active_since) >= self.config.heartbeat_s:
                        last_hb = time.monotonic()
                        self.heartbeat(active)
                    nap = min(self.config.heartbeat_s, 0.5)
                    if self.live is not None:
                        self.live.drain(self.reports, self.worker_id)
                        nap = max(0.01, self.live.wait_hint(nap))
                    handoff.sleep(nap)
                    continue
                if paused is not None:
                    handoff.sleep(1.0)
                    continue
                self._prune_now_and_then()
                if (self._checker is None and not self.load_keys()) or not self.claim_once():
                    self._retry_later(backoff)
                    continue
                backoff.reset()
            except Exception as exc:  # noqa: BLE001 - the network thread must survive anything
                handoff.note_error(f"network loop: {safe_exception_text(exc)}")
                handoff.sleep(backoff.next())
        # Best-effort final delivery (short): the outbox keeps whatever does not get through.
        with contextlib.suppress(Exception):  # stop goes on; the results stay on disk
            self.outbox.flush()

    def _retry_later(self, backoff: Backoff) -> None:
        self.handoff.set_disconnected()
        self.handoff.sleep(backoff.next())

    def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
            self._last_prune = time.monotonic()
            self.state.prune_done()

    # ------------------------------------------------------------------ keys
    def load_keys(self) -> bool:
        """Pinned keys: operator-supplied file, else pinned on first contact (TOFU) in the state dir."""
        jwks: Any
        if self.config.jwks_file is not None:
            jwks = json.loads(Path(self.config.jwks_file).read_text())
        else:
            jwks = self.state.pinned_jwks()
            if jwks is None:
                jwks = self._fetch_and_pin_keys()
                if jwks is None:
                    return False
        # The claim journal is the persisted replay record (record_claim refuses a known claim id and
        # the checker demands jti == claim_id); the checker's own cache stays in memory, a second check.
        self._checker = ClaimChecker(keys_from_jwks(jwks), self.worker_id, self.config.policy_dir,
                                     self.config.asset_root)
        return True

    def _fetch_and_pin_keys(self) -> Any | None:
        try:
            resp = self.reports.request("GET", "/v1/keys")
        except TransportError as exc:
            self.handoff.note_error(f"fetching keys: {exc}")
            return None
        if resp.status != 200:
            self.handoff.note_error(f"fetching keys: HTTP {resp.status}")
            return None
        try:
            keys_from_jwks(resp.body)
        except ValueError as exc:
            self.handoff.note_error(f"controller keys unusable: {exc}")
            return None
        self.state.pin_jwks(resp.body)
        log.info("pinned %d controller signing key(s) in %s", len(resp.body["keys"]), self.state.root)
        return resp.body

    # ------------------------------------------------------------------ claims
    def claim_once(self) -> bool:
        """One long-poll. True when the controller answered sensibly (job or 204)."""
        with self.handoff.lock:
            self.handoff.phase = Phase.polling
            stage = self.stage_name
        body = {"worker_id": self.worker_id, "labels": list(self.config.labels), "stage": stage}
        wait = self.config.poll_wait_s
        try:
            resp = self.claims.request(
                "POST",
                "/v1/workers/claim",
                body=body,
                query={"wait_s": wait},
                timeout_s=wait + self.config.http_timeout_s,
            )
        except TransportError as exc:
            if self.handoff.stopping.is_set():
                return True
            self.handoff.counters["garbage"] += "non-JSON" in str(exc) or "exceeds" in str(exc)
            self.handoff.note_error(f"claim: {exc}")
            return False
        self.handoff.note_approvals_waiting(resp.header(APPROVALS_WAITING_HEADER))
        if resp.status == 204:
            self.handoff.set_phase(Phase.idle)
            return True
        if resp.status != 200:
            self.handoff.note_error(f"claim: HTTP {resp.status} {resp.error_code() or ''}".rstrip())
            return False
        self.accept(resp)
        return True

    def _may_claim(self) -> bool:
        """Idle, not paused or stopping, keys loaded: a claim now would be run."""
        with self.handoff.lock:
            idle = self.handoff.active is None and self.handoff.paused is None
        return idle and self._checker is not None and not self.handoff.stopping.is_set()

    def report_then_claim(self, job_id: str, body: dict[str, Any]) -> Response:
        """Report a result and long-poll for the next job in the same request (on the claim connection, so
        `stop()` can cut it short). The answer is handled by the outbox; a claim in it comes back here."""
        with self.handoff.lock:
            self.handoff.phase = Phase.polling
            stage = self.stage_name
        wait = self.config.poll_wait_s
        query: dict[str, Any] = {"next": "true", "wait_s": wait}
        if self.config.labels:
            query["label"] = list(self.config.labels)
        if stage is not None:
            query["stage"] = stage
        resp = self.claims.request("POST", f"/v1/jobs/{job_id}/result", body=body, query=query,
                                   timeout_s=wait + self.config.http_timeout_s)
        self.handoff.note_approvals_waiting(resp.header(APPROVALS_WAITING_HEADER))
        return resp

    def accept(self, resp: Response) -> None:
        """Journal, verify, and offer the job to the host; or report why it will not run."""
        now = time.time()
        counters = self.handoff.counters
        try:
            raw = parse_claim(resp.body)
        except MalformedClaim as exc:
            counters["garbage"] += 1
            self.handoff.note_error(f"ignored a malformed claim response: {exc}")
            self.handoff.sleep(self.config.backoff_initial_s)
            return
        except ClaimRefused as exc:
            stub = Job(resp.body["job_id"], resp.body["claim_id"], "", None, None, {}, now)
            self.refuse(stub, exc, journal=True)
            return
        stub = Job(raw.job_id, raw.claim_id, raw.code, None, raw.timeout_s, {}, now)
        if not self.state.record_claim(raw.claim_id, raw.job_id, None):
            self.refuse(stub, ClaimRefused("replayed", "this claim id was already received"), journal=False)
            return
        counters["claimed"] += 1
        try:
            assert self._checker is not None
            job = self._checker.check(raw, now=now)
        except ClaimRefused as exc:
            self.refuse(stub, exc, journal=False)
            return
        self.handoff.offer(job)
        log.info("claimed job %s (policy %s)", job.job_id, job.policy.name)

    def refuse(self, job: Job, exc: ClaimRefused, *, journal: bool) -> None:
        self.handoff.counters["rejected"] += 1
        log.warning("refused job %s: %s", job.job_id, exc)
        if journal and not self.state.record_claim(job.claim_id, job.job_id, None):
            return
        # A signed claim that expired in transit is retryable (the controller re-queues "not_started");
        # every other refusal (signature, code, policy, audience, replay) is final.
        result = simple_result(
            JobStatus.rejected,
            NOT_STARTED if exc.reason == "expired" else SIGNED_CLAIM_REJECTED,
            f"{exc.reason}: {exc.message}",
            claim_id=job.claim_id,
            worker_id=self.worker_id,
            claimed_at=job.claimed_at,
            started_at=None,
        )
        self._finish(job, result)

    # ------------------------------------------------------------------ heartbeats
    def heartbeat(self, job: Job) -> None:
        with self.handoff.lock:
            stage = self.stage_name
        body = {"worker_id": self.worker_id, "job_id": job.job_id, "claim_id": job.claim_id, "stage": stage,
                "state": "running"}
        try:
            resp = self.reports.request("POST", "/v1/workers/heartbeat", body=body)
        except TransportError as exc:
            self.handoff.note_error(f"heartbeat: {exc}")
            return
        if resp.status != 200:
            self.handoff.note_error(f"heartbeat: HTTP {resp.status}")
        elif isinstance(resp.body, dict) and resp.body.get("cancel") is True and not job.extra.get("cancelled"):
            job.extra["cancelled"] = True
            log.warning(
                "controller cancelled job %s: it runs to its end or limit, its delta will not be applied", job.job_id
            )

    def say_stopped(self) -> None:
        """So `kitgate workers list` says "stopped", not "connected" (best effort, short)."""
        body = {"worker_id": self.worker_id, "state": "stopped"}
        with contextlib.suppress(Exception):  # the worker stops either way
            self.reports.request("POST", "/v1/workers/heartbeat", body=body,
                                 timeout_s=min(1.0, self.config.http_timeout_s))
