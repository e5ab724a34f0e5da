"""Delivering results: every finished job's result waits here until the controller acknowledged it.

Why in memory and on disk: the disk (`state.py`) makes a result outlive the process; the in-memory list
(loaded once at start) saves the network thread from re-reading the directory per job. A result is
fsync'd only when its first delivery fails, or before it is sent when its effects are durable already.

The last result of a flush may also ask for the worker's next job (`POST /v1/jobs/{id}/result?next=1`):
one request per job instead of two. Its answer acknowledges the result exactly as a plain report's does;
a claim inside it is handed back to the network thread, which journals it before anything runs. When
that answer is lost, the result stays here and is sent again (`already_reported`, nothing claimed then);
the job claimed for the lost answer is never run, and the controller declares it `lost`.

A report the controller refuses as too large (413) or of a shape it does not take (422 `json_too_*`) is
never sent again as it was: it is cut to the limit the 413 names (`results.fit_report`), then cut to its
status and timings, then reported `failed` with `ResultTooLarge`; only when even that is refused is it
dropped, loudly. The limit learned from a 413 is kept, so later reports are measured before they are sent.
The outbox entry on disk keeps the full result (written once, as state.py promises); cutting it again
after a restart gives the same report.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from kitgate.worker.handoff import Handoff
from kitgate.worker.results import NOTE_ROOM, encoded_size, fit_report, last_report, minimal_report, safe_exception_text
from kitgate.worker.state import WorkerState
from kitgate.worker.transport import ControllerTransport, Response, TransportError

log = logging.getLogger("kitgate.worker")
# send(job_id, body) -> the controller's answer to a report that also claims (a ReportAck, or a plain JobView
# from a controller that does not know `next`)
ReportThenClaim = Callable[[str, dict[str, Any]], Response]
# 422 codes that refuse the JSON body itself (bodylimit/jsonshape, pydantic): a smaller report may pass
SHAPE_CODES = frozenset({"json_too_deep", "json_too_large", "json_number_too_long", "validation_error"})
_LIMIT_RE = re.compile(r"limit of (\d+) bytes")


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
        self.body_limit: int | None = None  # the controller's request body limit, once a 413 named it

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
            if self.body_limit is not None:
                body = fit_report(body, self.body_limit)  # known to be too large: cut before it is sent
            step = 0  # 0: as queued; 1: cut to fit; 2: minimal; 3: `failed` ResultTooLarge
            while True:
                try:
                    resp, asks = self._send(job_id, body, asks, claim_next, timeout_s)
                except TransportError as exc:
                    self._handoff.note_error(f"report {job_id}: {exc}")
                    self._keep(claim_id, body)
                    self._undelivered()
                    return False, None
                smaller = self._smaller(job_id, pending[i][2], body, resp, step)
                if smaller is None:
                    break
                step, body = smaller
                asks = False  # a cut report is sent alone: the next job is claimed by the next poll
            code = resp.error_code()
            if resp.status == 200 or (resp.status == 409 and code == "already_reported"):
                self._acknowledged(claim_id)
                self._handoff.counters["reported"] += 1
                if asks and resp.status == 200 and isinstance(resp.body, dict) and isinstance(resp.body.get("next"),
                                                                                               dict):
                    claim = resp.body["next"]
            elif resp.status in (400, 404, 409, 413, 422):
                # Permanent: the controller will never accept it (job no longer ours, e.g. already lost; or
                # refused in every smaller form, said loudly by `_smaller`).
                log.warning("report %s refused for good (HTTP %s %s); dropping it", job_id, resp.status, code)
                self._acknowledged(claim_id)
            else:
                self._handoff.note_error(f"report {job_id}: HTTP {resp.status} {code or ''}".rstrip())
                self._keep(claim_id, body)
                self._undelivered()
                return False, None
        return True, claim

    def _send(self, job_id: str, body: dict[str, Any], asks: bool, claim_next: ReportThenClaim | None,
              timeout_s: float | None) -> tuple[Response, bool]:
        """One report (asking for the next job when `asks`): (the answer, whether it was asked)."""
        if asks:
            assert claim_next is not None
            resp = claim_next(job_id, body)
            body_refused = resp.status == 422 and str(resp.error_code()).startswith("json_")
            if (resp.status in (400, 422) and not body_refused) or resp.status >= 500:
                # Maybe only the claim half failed (its query: labels, stage, wait; or signing the
                # claim): a result is dropped or retried on the word of a plain report, sent alone.
                log.warning("report %s with a claim refused (HTTP %s %s); reporting it alone", job_id,
                            resp.status, resp.error_code())
            else:
                return resp, True
        return self._transport.request("POST", f"/v1/jobs/{job_id}/result", body=body, timeout_s=timeout_s), False

    def _smaller(self, job_id: str, original: dict[str, Any], sent: dict[str, Any], resp: Response,
                 step: int) -> tuple[int, dict[str, Any]] | None:
        """The next, smaller report after a refusal of the report's size or shape; None: use `resp` as it is."""
        code = resp.error_code()
        if not (resp.status == 413 or (resp.status == 422 and code in SHAPE_CODES)):
            return None
        message = _message(resp)
        size = encoded_size(sent)
        if resp.status == 413:
            named = _named_limit(resp)
            if named is not None:
                self.body_limit = named
            limit = named or self.body_limit or size // 2
        else:
            limit = self.body_limit or size + NOTE_ROOM  # refused for its shape, not its size
        while step < 3:
            step += 1
            if step == 1:
                body = fit_report(original, limit, None if resp.status == 413 else message or code)
            elif step == 2:
                body = minimal_report(original, limit if resp.status == 413 else None)
            else:
                body = last_report(original)
            if body != sent:
                log.warning("report %s refused (HTTP %s %s: %s); sending it smaller (step %d: %d -> %d bytes)",
                            job_id, resp.status, code, message[:200], step, size, encoded_size(body))
                return step, body
        log.error("report %s refused in every smaller form (HTTP %s %s: %s); dropping it, the controller will "
                  "declare the job lost", job_id, resp.status, code, message[:200])
        self._handoff.note_error(f"report {job_id}: refused even as a minimal report (HTTP {resp.status} {code})")
        return None

    def _keep(self, claim_id: str, body: dict[str, Any]) -> None:
        """Remember the (possibly cut) body to retry, so a refused size is never sent again."""
        with self._lock:
            self._items = [(c, j, body if c == claim_id else b, d) for c, j, b, d in self._items]

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


def _message(resp: Response) -> str:
    err = resp.body.get("error") if isinstance(resp.body, dict) else None
    return str(err.get("message") or "") if isinstance(err, dict) else ""


def _named_limit(resp: Response) -> int | None:
    """The body limit a 413 names: `details.limit_bytes`, or the number in its message."""
    err = resp.body.get("error") if isinstance(resp.body, dict) else None
    details = err.get("details") if isinstance(err, dict) else None
    named = details.get("limit_bytes") if isinstance(details, dict) else None
    if isinstance(named, int) and not isinstance(named, bool) and named > 0:
        return named
    found = _LIMIT_RE.search(_message(resp))
    return int(found.group(1)) if found else None
