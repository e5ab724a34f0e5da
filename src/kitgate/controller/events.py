"""The controller's live event bus: what a job is doing, pushed to watchers as it happens.

Why a bus of its own: operators and agents want to see a job move (created, waiting for approval,
claimed, started, printing, finished) without polling `GET /v1/jobs/{id}`. Every state change in
`JobService` publishes one `LiveEvent` here; the SSE route (`GET /v1/events`), the web console and
anything else in the controller process subscribe.

Rules this module keeps, because the publisher is the job pipeline itself:
- `publish` never blocks and never raises on a slow or dead subscriber. It takes one short lock,
  appends to a bounded retention ring, and hands the event to each matching subscriber's bounded
  queue. A subscriber whose queue is full is *dropped*: it receives the events it already had, then
  one `gap` event, and its iteration ends. The client reconnects with `Last-Event-ID` and replays
  whatever is still retained. A slow reader therefore costs itself a reconnect, never the jobs a delay.
- Ids are integers, strictly increasing per controller process (per bus). A resume id that the bus
  cannot honour (older than the oldest retained event, or from an earlier controller process) yields
  a `gap` event first, so a client always knows when it may have missed something.
- Scoping is decided by the caller of `subscribe` (the route): `owner=None` means every job (admin);
  otherwise only events of jobs whose owner is `owner`.
- Thread-safe: `publish` may be called from the event loop or from any thread (e.g. a threadpool
  route); subscribers are woken on their own loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

EventType = Literal[
    "created",
    "approval_needed",
    "approved",
    "rejected",
    "claimed",
    "started",
    "output",
    "finished",
    "requeued",
    "gap",
]
EVENT_TYPES: Final[frozenset[str]] = frozenset(
    {
        "created", "approval_needed", "approved", "rejected", "claimed", "started", "output", "finished",
        "requeued", "gap",
    }
)

DEFAULT_RETENTION: Final = 4096  # events kept for Last-Event-ID replay
DEFAULT_QUEUE: Final = 512  # events buffered per subscriber before it is dropped with a gap


@dataclass(frozen=True)
class LiveEvent:
    """One thing that happened to one job.

    `type` is one of EVENT_TYPES. `data` is small and JSON-safe; by type:
      created         {"status", "policy", "labels"}     status: queued or pending_approval
      approval_needed {"policy"}
      approved        {"by"}
      rejected        {"by", "reason"}                   (a `finished` event follows)
      claimed         {"worker", "attempt"}
      started         {"worker", "attempt"}              the child began executing (sent once it ran ~0.1 s)
      output          {"seq", "text", "truncated"?, "dropped"?}   printed text: show it as TEXT, never HTML
      requeued        {"worker", "reason"}               the worker gave it back before it started
      finished        {"status", "error_type"?, "duration_ms"?}   any terminal status (cancelled, lost, ...)
      gap             {"reason", "resume_after"}   synthetic, per subscriber; job_id/owner are ""

    A `gap` event's id is the last id the subscriber had before it; it is never retained, and the SSE
    route sends it without an `id:` line so the client's Last-Event-ID stays the real last event.
    """

    id: int
    type: str
    job_id: str
    owner: str
    at: float  # unix seconds
    data: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The wire form (also the SSE `data:` JSON). `owner` is included: the reader may see the job."""
        return {
            "id": self.id,
            "type": self.type,
            "job_id": self.job_id,
            "owner": self.owner,
            "at": self.at,
            "data": dict(self.data),
        }


class Subscription:
    """One watcher's view of the bus. Iterate it (`async for ev in sub`) or poll with `next(timeout)`.

    Always `close()` it (or use `async with`); a closed or dropped subscription ends iteration.
    Not shared between tasks: one consumer per subscription.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        owner: str | None,
        job_id: str | None,
        maxsize: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._bus = bus
        self.owner = owner
        self.job_id = job_id
        self._maxsize = maxsize
        self._loop = loop
        self._queue: deque[LiveEvent] = deque()
        self._wake = asyncio.Event()
        self._closed = False
        self._dropped = False  # overflowed: deliver what is queued, then one gap, then end
        self._last_id = 0  # last id delivered to (or queued for) this subscriber

    # -- called by the bus under its lock ------------------------------------------------------
    def _matches(self, ev: LiveEvent) -> bool:
        if self.owner is not None and ev.owner != self.owner:
            return False
        return self.job_id is None or ev.job_id == self.job_id

    def _offer(self, ev: LiveEvent) -> bool:
        """Queue `ev` if there is room. Returns False (and marks the subscriber dropped) if not."""
        if self._closed or self._dropped:
            return False
        if len(self._queue) >= self._maxsize:
            self._dropped = True
            self._signal()
            return False
        self._queue.append(ev)
        self._signal()
        return True

    def _signal(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the subscriber's loop is closed: nobody is listening any more
            self._closed = True

    # -- consumer side --------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def dropped(self) -> bool:
        """True once this subscriber fell behind and was cut off (a `gap` event is or was delivered)."""
        return self._dropped

    async def next(self, timeout: float | None = None) -> LiveEvent | None:
        """The next event; None on timeout (use it to send a heartbeat) or when the subscription ended.

        After a drop, the queued events come first, then one `gap` event, then None for ever.
        Check `closed` to tell "ended" from "timed out".
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._queue:
                ev = self._queue.popleft()
                self._last_id = max(self._last_id, ev.id)
                return ev
            if self._closed:
                return None
            if self._dropped:
                self.close()
                return self._bus._gap("subscriber_too_slow", self._last_id)
            self._wake.clear()
            if self._queue or self._dropped or self._closed:
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return None

    def __aiter__(self) -> AsyncIterator[LiveEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LiveEvent]:
        while True:
            ev = await self.next()
            if ev is None:
                return
            yield ev

    def close(self) -> None:
        """Stop receiving; idempotent. Wakes a consumer blocked in `next`."""
        if self._closed:
            return
        self._closed = True
        self._bus._remove(self)
        self._signal_closed()

    def _signal_closed(self) -> None:
        with contextlib.suppress(RuntimeError):  # loop already closed: nothing to wake
            self._loop.call_soon_threadsafe(self._wake.set)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """One per controller (`AppContext.events`, also `JobService.events`)."""

    def __init__(
        self,
        *,
        retention: int = DEFAULT_RETENTION,
        queue_size: int = DEFAULT_QUEUE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retention < 1 or queue_size < 1:
            raise ValueError("retention and queue_size must be at least 1")
        self._lock = threading.Lock()
        self._ring: deque[LiveEvent] = deque(maxlen=retention)
        self._subs: set[Subscription] = set()
        self._ids = itertools.count(1)
        self._last_id = 0
        self._queue_size = queue_size
        self._clock = clock
        self._closed = False
        self.published = 0  # counters, for /metrics and tests
        self.dropped_subscribers = 0

    @property
    def last_id(self) -> int:
        return self._last_id

    def publish(self, type: str, *, job_id: str, owner: str, data: Mapping[str, object] | None = None) -> LiveEvent:
        """Record and fan out one event. Thread-safe; never blocks on subscribers; never raises for them."""
        if type not in EVENT_TYPES or type == "gap":
            raise ValueError(f"unknown event type {type!r}")
        with self._lock:
            ev = LiveEvent(next(self._ids), type, job_id, owner, self._clock(), dict(data or {}))
            self._last_id = ev.id
            self._ring.append(ev)
            self.published += 1
            for sub in tuple(self._subs):
                if sub._matches(ev) and not sub._offer(ev) and sub._dropped:
                    self._subs.discard(sub)
                    self.dropped_subscribers += 1
        return ev

    def subscribe(
        self,
        *,
        owner: str | None,
        after_id: int | None = None,
        job_id: str | None = None,
        queue_size: int | None = None,
    ) -> Subscription:
        """A new subscription on the running loop. `owner=None` sees every job (admin scope only!).

        `after_id` (a client's Last-Event-ID) first replays the retained matching events with a larger
        id; if events after `after_id` may already have been evicted, or `after_id` comes from an
        earlier controller process, a `gap` event comes first. Must be called from the loop that
        will consume the subscription.
        """
        loop = asyncio.get_running_loop()
        sub = Subscription(self, owner=owner, job_id=job_id, maxsize=queue_size or self._queue_size, loop=loop)
        with self._lock:
            if self._closed:
                sub._closed = True
                return sub
            if after_id is not None:
                oldest = self._ring[0].id if self._ring else self._last_id + 1
                if after_id > self._last_id:  # an id this process never issued: an earlier controller
                    sub._queue.append(self._gap("unknown_last_event_id", after_id))
                    after_id = 0
                elif after_id < oldest - 1:  # events after it were evicted from retention
                    sub._queue.append(self._gap("retention_exceeded", after_id))
                replay = [ev for ev in self._ring if ev.id > after_id and sub._matches(ev)]
                # a replay bigger than the queue is still delivered whole: it is bounded by retention
                sub._queue.extend(replay)
            sub._last_id = self._last_id if after_id is None else after_id
            self._subs.add(sub)
        return sub

    def retained(self, *, owner: str | None = None, job_id: str | None = None) -> list[LiveEvent]:
        """A snapshot of the retained events matching the filter (oldest first), e.g. for a job page."""
        with self._lock:
            return [
                ev for ev in self._ring
                if (owner is None or ev.owner == owner) and (job_id is None or ev.job_id == job_id)
            ]

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    def close(self) -> None:
        """Controller shutdown: end every subscription so open streams finish promptly."""
        with self._lock:
            self._closed = True
            subs = tuple(self._subs)
            self._subs.clear()
        for sub in subs:
            sub.close()

    # -- internals --------------------------------------------------------------------------------
    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def _gap(self, reason: str, resume_after: int) -> LiveEvent:
        return LiveEvent(
            resume_after, "gap", "", "", self._clock(), {"reason": reason, "resume_after": resume_after}
        )
