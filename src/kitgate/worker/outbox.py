"""Delivering results: every finished job's result waits here until the controller acknowledged it.

Why in memory and on disk: the disk (`state.py`) makes a result outlive the process; the in-memory list
(loaded once at start) saves the network thread from re-reading the directory per job. A result is
fsync'd only when its first delivery fails, or before it is sent when its effects are durable already.

The last result of a flush may also ask for the worker's next job (`POST /v1/jobs/{id}/result?next=1`):
one request per job instead of two. Its answer acknowledges the result exactly as a plain report's does;
a claim inside it is handed back to the network thread, which journals it before anything runs. When
that answer is lost, the result stays here and is sent again (`already_reported`, nothing claimed then);
the job claimed for the lost answer is never run, and the controller declares it `lost`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kitgate.worker.handoff import Handoff
from kitgate.worker.results import safe_exception_text
from kitgate.worker.state import WorkerState
from kitgate.worker.transport import ControllerTransport, Response, TransportError

log = logging.getLogger("kitgate.worker")
# send(job_id, body) -> the controller's answer to a report that also claims (a ReportAck, or a plain JobView
# from a controller that does not know `next`)
ReportThenClaim = Callable[[str, dict[str, Any]], Response]


class Outbox:
    """(claim_id, job_id, body, durable) waiting for an acknowledgement; shares the hand-off's lock."""

    def __init__(self, state: WorkerState, transport: ControllerTransport, handoff: Handoff) -> None:
        self._state = state
        self._transport = transport
        self._handoff = handoff
        self._lock: threading.Lock = handoff.lock
        self._items: list[tuple[str, str, dict[str, Any], bool]] = []
        self.dirty = True  # something may wait: flush before the next claim
        self.count = 0  # cached for status(): Kit's main thread reads it, no disk I/O there

    def load(self) -> None:
        """What a previous process left undelivered (already on disk, not yet fsync'd)."""
        with self._lock:
            self._items = [(c, j, b, False) for c, j, b in self._state.outbox()]
            self.count = len(self._items)

    def add_locked(self, claim_id: str, job_id: str, body: dict[str, Any], durable: bool) -> None:
        """Queue a result that is journaled already. Call with the hand-off's lock held."""
        self._items.append((claim_id, job_id, body, durable))
        self.dirty = True
        self.count = len(self._items)

    def undelivered(self) -> bool:
        with self._lock:
            return bool(self._items)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Deliver every stored result. False when the controller is unreachable (retry later)."""
        return self.deliver(timeout_s)[0]

    def deliver(
        self, timeout_s: float | None = None, claim_next: ReportThenClaim | None = None
    ) -> tuple[bool, dict[str, Any] | None]:
        """Deliver every stored result; with `claim_next`, the last one is sent through it and asks for the
        next job. Returns (all delivered, the `next` claim of the answer, or None)."""
        with self._lock:
            self.dirty = False  # cleared first: a result finished during the flush re-sets it
            pending = list(self._items)
            self.count = len(pending)
        claim: dict[str, Any] | None = None
        for i, (claim_id, job_id, body, _durable) in enumerate(pending):
            asks = claim_next is not None and i == len(pending) - 1
            try:
                if asks:
                    assert claim_next is not None
                    resp = claim_next(job_id, body)
                    if resp.status in (400, 422) or resp.status >= 500:
                        # Maybe only the claim half failed (its query: labels, stage, wait; or signing the
                        # claim): a result is dropped or retried on the word of a plain report, sent alone.
                        asks = False
                        log.warning("report %s with a claim refused (HTTP %s %s); reporting it alone", job_id,
                                    resp.status, resp.error_code())
                if not asks:
                    resp = self._transport.request("POST", f"/v1/jobs/{job_id}/result", body=body,
                                                   timeout_s=timeout_s)
            except TransportError as exc:
                self._handoff.note_error(f"report {job_id}: {exc}")
                self._undelivered()
                return False, None
            code = resp.error_code()
            if resp.status == 200 or (resp.status == 409 and code == "already_reported"):
                self._acknowledged(claim_id)
                self._handoff.counters["reported"] += 1
                if asks and resp.status == 200 and isinstance(resp.body, dict) and isinstance(resp.body.get("next"),
                                                                                               dict):
                    claim = resp.body["next"]
            elif resp.status in (400, 404, 409, 422):
                # Permanent: the controller will never accept it (job no longer ours, e.g. already lost).
                log.warning("report %s refused for good (HTTP %s %s); dropping it", job_id, resp.status, code)
                self._acknowledged(claim_id)
            else:
                self._handoff.note_error(f"report {job_id}: HTTP {resp.status} {code or ''}".rstrip())
                self._undelivered()
                return False, None
        return True, claim

    def make_durable(self) -> None:
        """fsync every waiting result that is not durable yet (before a retry wait, and at stop)."""
        with self._lock:
            todo = [item for item in self._items if not item[3]]
        for claim_id, _job, _body, _durable in todo:
            try:
                self._state.make_durable(claim_id)
            except OSError as exc:
                self._handoff.note_error(f"outbox fsync {claim_id}: {safe_exception_text(exc)}")
                continue
            with self._lock:
                self._items = [(c, j, b, d or c == claim_id) for c, j, b, d in self._items]

    def _acknowledged(self, claim_id: str) -> None:
        self._state.acknowledge(claim_id)
        with self._lock:
            self._items = [item for item in self._items if item[0] != claim_id]
            self.count = len(self._items)

    def _undelivered(self) -> None:
        """Delivery failed: keep retrying, and make every waiting result survive a power loss first."""
        self.dirty = True
        self.make_durable()
