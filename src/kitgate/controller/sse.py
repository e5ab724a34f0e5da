"""Server-Sent Events plumbing shared by GET /v1/events and /console/events.

Why one module: both are one long response per watcher on the same event bus, and the rules that keep
them safe must not drift apart between the API and the console: a bounded number of open streams per
credential (signing in again or opening more tabs buys no more connections), each slot given back exactly
once however the stream ends, and the credential re-checked while the stream is open, so a revoked or
expired token stops receiving events within LIVENESS_S. Only the authentication in front of a stream and
the framing of one event differ, and those stay in the routes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from kitgate.controller.events import LiveEvent, Subscription

LIVENESS_S = 1.0  # an open stream re-checks this often that its credential (and session) are still live

Frame = TypeVar("Frame")


class StreamSlots:
    """How many event streams each credential holds; a slot is given back exactly once (see `releaser`)."""

    def __init__(self, per_credential: int) -> None:
        self.per_credential = per_credential
        self._open: Counter[str] = Counter()

    def try_take(self, credential: str) -> bool:
        """Take a slot, or False when the credential already holds `per_credential` streams."""
        if self._open[credential] >= self.per_credential:
            return False
        self._open[credential] += 1
        return True

    def give_back(self, credential: str) -> None:
        self._open[credential] -= 1
        if self._open[credential] <= 0:
            del self._open[credential]

    def count(self, credential: str) -> int:
        return self._open.get(credential, 0)


def releaser(sub: Subscription, slots: StreamSlots, credential: str) -> Callable[[], None]:
    """Close `sub` and give its slot back, once: called when the stream ends and again (as the response's
    background task) for a response that was never iterated; the second call does nothing."""
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            sub.close()
            slots.give_back(credential)

    return release


async def event_stream(
    sub: Subscription,
    release: Callable[[], None],
    alive: Callable[[], Awaitable[bool]],
    frame: Callable[[LiveEvent], Frame],
    first: Frame | None = None,
) -> AsyncIterator[Frame]:
    """`first` (if any), then each event as `frame(event)` until the subscription ends (client gone,
    controller stopping, or cut off with a gap) or `await alive()` turns false (it reads the store); `alive`
    is asked at least every LIVENESS_S, so the check a request gets at its start is repeated while this one
    long request is open."""
    try:
        if first is not None:
            yield first
        checked = time.monotonic()
        while True:
            ev = await sub.next(timeout=LIVENESS_S)
            if ev is None and sub.closed:
                return
            if time.monotonic() - checked >= LIVENESS_S:
                if not await alive():
                    return
                checked = time.monotonic()
            if ev is not None:
                yield frame(ev)
    finally:
        release()
