"""In-process wake-ups for long-polls: no polling interval anywhere.

Claimers wait on a generation event that is replaced (and set) each time the queue gains a job;
clients waiting for a result wait on a per-job event set when the job reaches a terminal state.
Everything runs on the server's event loop; calls from other threads are marshalled onto it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any


class JobEvent(asyncio.Event):
    """Set when a job reaches a terminal state; `job` carries the stored record when the setter had it."""

    job: Any = None


class Notifier:
    def __init__(self) -> None:
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
        def fire() -> None:
            event, self._queue_event = self._queue_event, asyncio.Event()
            event.set()

        self._on_loop(fire)

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
        event, so the woken clients need not read back what was just written."""

        def fire() -> None:
            entry = self._jobs.pop(job_id, None)
            if entry is not None:
                entry[0].job = job
                entry[0].set()

        self._on_loop(fire)

    async def wait_job(self, event: asyncio.Event, timeout: float) -> None:
        await self._wait_any(event, timeout, None)

    @property
    def waiting_jobs(self) -> int:
        return len(self._jobs)
