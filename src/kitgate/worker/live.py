"""Live output of the running job, from the executor's thread to the controller, without ever waiting.

Why a module of its own: the job's thread (the host thread, or Kit's offload helper) must never block
on the network, and the network thread must not be woken for every printed line. The sandbox already
coalesces printed text (kitgate.sandbox.live); here the executor's callbacks append it to a bounded
buffer (`output`, `started`: a short lock, never I/O) and the network thread sends what has gathered
with `POST /v1/jobs/{id}/output` at most every `min_interval_s` (`drain`). When the buffer is full,
new text is dropped and counted; the next chunk that gets through carries `dropped`, so a watcher
sees a marker instead of silently missing text. Live output is a view: the result's `output` is the
record, and a live chunk that cannot be delivered is not retried.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

from kitgate.worker.transport import ControllerTransport, TransportError
from kitgate.worker.verify import Job

log = logging.getLogger("kitgate.worker")

MAX_PENDING_CHARS = 64 * 1024  # buffered for one job; beyond it text is dropped (counted)
CHUNK_CHARS = 8192  # one POST's text (the controller accepts up to 16 KiB)
MIN_INTERVAL_S = 0.2  # at most ~5 POSTs a second per job
START_DELAY_S = 0.1  # a job that ends (or prints) sooner sends no `started` marker of its own
SEND_TIMEOUT_S = 2.0  # live output is best effort: never hold the network thread for long
TAIL_CHARS = 2000  # the end of the current job's output, for a status window (Kit's omni.ui)


class LiveRelay:
    """One job at a time (a worker runs one job at a time). Thread-safe; `output`/`started` never block on I/O.

    Short jobs cost nothing: nothing of a job (its `started` marker, its text) is sent before it has run
    `start_delay_s`, and a job that finishes before anything of it was sent sends nothing at all
    (`drain(final=True)` discards it): its result, reported right after, carries the whole output, and
    the controller publishes `finished`. So the per-job request count of a quick job is unchanged.
    """

    def __init__(self, wake: Callable[[], None] | None = None, *, max_pending_chars: int = MAX_PENDING_CHARS,
                 chunk_chars: int = CHUNK_CHARS, min_interval_s: float = MIN_INTERVAL_S,
                 start_delay_s: float = START_DELAY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._wake = wake
        self._max = max_pending_chars
        self._chunk = chunk_chars
        self._interval = min_interval_s
        self._start_delay = start_delay_s
        self._clock = clock
        self._job: tuple[str, str] | None = None  # (job_id, claim_id)
        self._started = False
        self._started_at = 0.0
        self._parts: list[str] = []
        self._size = 0
        self._dropped = 0  # chunks not buffered since the last send
        self._seq = 0  # chunks sent for this job
        self._last_send = -1e9
        self._closed_claim: str | None = None  # the controller no longer accepts output for this claim
        self._tail = ""  # the end of the job's text, kept even when it is not sent
        self.unsupported = False  # the controller has no live-output endpoint
        self.sent = 0  # POSTs made (tests, diagnostics)
        self.dropped_total = 0

    # ------------------------------------------------------------------ the job's thread
    def started(self, job: Job) -> None:
        with self._lock:
            self._switch(job)
            self._started = True
            self._started_at = self._clock()

    def output(self, job: Job, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._switch(job)
            self._tail = (self._tail + text)[-TAIL_CHARS:]
            if self._size + len(text) > self._max:
                self._dropped += 1
                self.dropped_total += 1
                return
            self._parts.append(text)
            self._size += len(text)
            now = self._clock()
            due = now - self._last_send >= self._interval and now - self._started_at >= self._start_delay
        if due and self._wake is not None:
            self._wake()

    def _switch(self, job: Job) -> None:
        key = (job.job_id, job.claim_id)
        if self._job != key:
            self._job, self._started, self._parts, self._size, self._dropped, self._seq = key, False, [], 0, 0, 0
            self._tail, self._started_at = "", 0.0

    def tail(self) -> str:
        """The end of what the current (or last) job printed (any thread; for status windows)."""
        with self._lock:
            return self._tail

    # ------------------------------------------------------------------ the network thread
    def _has_news(self) -> bool:
        return self._job is not None and (self._started or bool(self._parts) or self._dropped > 0)

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._has_news()

    def wait_hint(self, default: float) -> float:
        """How long the network thread may sleep before the next chunk (or the `started` marker) is due."""
        with self._lock:
            if self._job is None:
                return default
            now = self._clock()
            start_due = self._started_at + self._start_delay - now
            if self._parts or self._dropped:
                return max(0.0, min(default, max(start_due, self._last_send + self._interval - now)))
            if self._started:
                return max(0.0, min(default, start_due))
            return min(default, self._interval)  # a job runs: look again soon (early pokes are skipped)

    def drain(self, transport: ControllerTransport, worker_id: str, *, final: bool = False) -> int:
        """Send what has gathered, throttled. `final`: the job has finished; send the rest if the job was
        already being streamed, else drop it (the result carries it). Returns the number of POSTs made."""
        posts = 0
        while True:
            with self._lock:
                if not self._has_news():
                    return posts
                now = self._clock()
                if final and self._seq == 0:  # never streamed: nothing of it is worth a request now
                    self._started, self._parts, self._size, self._dropped = False, [], 0, 0
                    return posts
                if not final:
                    if now - self._started_at < self._start_delay:
                        return posts  # nothing of a job travels before it has run this long
                    if (self._parts or self._dropped) and now - self._last_send < self._interval:
                        return posts
                assert self._job is not None
                job_id, claim_id = self._job
                text = "".join(self._parts)
                body_text, rest = text[: self._chunk], text[self._chunk:]
                self._parts, self._size = ([rest], len(rest)) if rest else ([], 0)
                body = {"worker_id": worker_id, "claim_id": claim_id, "seq": self._seq, "text": body_text,
                        "started": self._started, "dropped": self._dropped}
                self._seq += 1
                self._started, self._dropped = False, 0
                self._last_send = now
            if claim_id == self._closed_claim or self.unsupported:
                continue
            posts += 1
            self.sent += 1
            try:
                resp = transport.request("POST", f"/v1/jobs/{quote(job_id, safe='')}/output", body=body,
                                         timeout_s=SEND_TIMEOUT_S)
            except TransportError as exc:
                log.debug("live output of job %s not delivered: %s", job_id, exc)
                continue
            if resp.status == 409:  # the claim ended (finished, lost, cancelled): nothing more to send
                self._closed_claim = claim_id
            elif resp.status in (404, 405):  # a controller without live output: stop trying
                self.unsupported = True
                log.info("the controller does not take live output (HTTP %s); the results still carry it",
                         resp.status)
            elif resp.status != 200:
                log.debug("live output of job %s refused: HTTP %s %s", job_id, resp.status, resp.error_code())
            if not final:
                return posts
