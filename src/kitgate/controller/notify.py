"""Wake-ups for long-polls: a waiting claimer or `wait_s` caller answers the moment its news arrives.

Claimers wait on a generation event that is replaced (and set) each time the queue gains a job;
clients waiting for a result wait on a per-job event set when the job reaches a terminal state.
Everything runs on the server's event loop; calls from other threads are marshalled onto it.

One controller (SQLite, the default): these in-process events are all there is, and no polling interval
exists anywhere (`poll_s` is None). Several replicas (PostgreSQL): the news also goes to the other replicas
through `wakeups` (backend.Wakeups, LISTEN/NOTIFY), and what they send fires here, locally only (a remote
wake-up is never sent on again). Cross-replica delivery is best-effort, so `poll_s` is then a short safety
poll: callers cap each wait with it (`wait_cap`) and look again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitgate.controller.backend import Wakeups

log = logging.getLogger("kitgate.controller.notify")

SAFETY_POLL_S = 1.0  # with cross-replica wake-ups: the longest a missed NOTIFY can delay a waiter


class JobEvent(asyncio.Event):
    """Set when a job reaches a terminal state; `job` carries the stored record when the setter had it."""

    job: Any = None


class Notifier:
    def __init__(self, wakeups: Wakeups | None = None, poll_s: float | None = None) -> None:
        self.wakeups = wakeups
        # None: no safety poll (in-process events cannot be missed); with wakeups, SAFETY_POLL_S by default
        self.poll_s = poll_s if poll_s is not None else (SAFETY_POLL_S if wakeups is not None else None)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._queue_event = asyncio.Event()
        self._jobs: dict[str, tuple[JobEvent, int]] = {}
        self.stopping = asyncio.Event()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.get_ident()

    def _on_loop(self, fn: Callable[[], None]) -> None:
        if self._loop is None or self._thread == threading.get_ident():
            fn()
        else:
            self._loop.call_soon_threadsafe(fn)

    # ---- queue -------------------------------------------------------------------------------
    def queue_event(self) -> asyncio.Event:
        """Take this BEFORE looking at the queue, so a job arriving in between still wakes you."""
        return self._queue_event

    def queue_changed(self) -> None:
        """The queue gained a job here (after the commit): wake local claimers and tell the other replicas."""
        self._on_loop(self._queue_changed_here if self.wakeups is not None else self._fire_queue)

    def _queue_changed_here(self) -> None:
        self._fire_queue()
        if self.wakeups is not None:
            self._tell(self.wakeups.queue_changed)

    def _fire_queue(self) -> None:
        event, self._queue_event = self._queue_event, asyncio.Event()
        event.set()

    def _remote_queue(self) -> None:
        """Another replica's queue changed (or the listener reconnected): wake local claimers only."""
        self._on_loop(self._fire_queue)

    def wait_cap(self, remaining: float) -> float:
        """How long one wait may last: `remaining`, capped by the safety poll when there is one."""
        return remaining if self.poll_s is None else min(remaining, self.poll_s)

    async def listen(self) -> None:
        """Feed the other replicas' news into this notifier until cancelled (returns at once without wakeups)."""
        if self.wakeups is None:
            return
        await self.wakeups.run(self._remote_queue, self._remote_job)

    @staticmethod
    def _tell(send: Callable[..., None], *args: str) -> None:
        try:
            send(*args)
        except Exception:  # noqa: BLE001 - the commit happened; a lost wake-up is covered by the safety poll
            log.exception("cross-replica wake-up failed")

    async def wait_queue(self, event: asyncio.Event, timeout: float, gone: asyncio.Future[None] | None = None) -> None:
        """Until the queue changes, the timeout passes, the caller disconnects or the server stops."""
        await self._wait_any(event, timeout, gone)

    async def _wait_any(self, event: asyncio.Event, timeout: float, gone: asyncio.Future[None] | None) -> None:
        waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(event.wait())}
        if not self.stopping.is_set():
            waiters.add(asyncio.ensure_future(self.stopping.wait()))
        try:
            await asyncio.wait(
                {*waiters, *([gone] if gone is not None else [])}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for w in waiters:
                w.cancel()

    def stop(self) -> None:
        """Server shutdown: release every long-poll at once (claims answer 204, waits answer 202)."""
        self._on_loop(self.stopping.set)

    # ---- jobs --------------------------------------------------------------------------------
    def job_event(self, job_id: str) -> JobEvent:
        event, refs = self._jobs.get(job_id, (None, 0))
        if event is None:
            event = JobEvent()
        self._jobs[job_id] = (event, refs + 1)
        return event

    def release_job_event(self, job_id: str, mine: JobEvent) -> None:
        event, refs = self._jobs.get(job_id, (None, 0))
        if event is not mine:
            return
        if refs <= 1:
            del self._jobs[job_id]
        else:
            self._jobs[job_id] = (event, refs - 1)

    def job_finished(self, job_id: str, job: Any = None) -> None:
        """Wake every waiter on the job; `job` (the stored record, if the caller has it) rides along on the
        event, so the woken clients need not read back what was just written. The other replicas hear the
        job id only: their waiters read the record back (`job` is None there)."""
        self._on_loop(lambda: self._job_finished_here(job_id, job))

    def _job_finished_here(self, job_id: str, job: Any) -> None:
        self._fire_job(job_id, job)
        if self.wakeups is not None:
            self._tell(self.wakeups.job_finished, job_id)

    def _fire_job(self, job_id: str, job: Any) -> None:
        entry = self._jobs.pop(job_id, None)
        if entry is not None:
            entry[0].job = job
            entry[0].set()

    def _remote_job(self, job_id: str) -> None:
        """Another replica finished `job_id`: wake local waiters only, without a record."""
        self._on_loop(lambda: self._fire_job(job_id, None))

    async def wait_job(self, event: asyncio.Event, timeout: float) -> None:
        await self._wait_any(event, timeout, None)

    @property
    def waiting_jobs(self) -> int:
        return len(self._jobs)
