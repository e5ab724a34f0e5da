"""Rate budgets per identity and per IP: an exact moving window kept in this process (memory://, the
default), or `limits`' moving window on Redis (redis://) so several controllers share one budget.

Why our own window for memory://: `limits`' MemoryStorage (5.x) expires entries with a
`threading.Timer(0.01)` that it re-creates on the first hit after the previous timer fired, so under load
the controller started a new thread about every 10 ms, and `Thread.start` blocks the event loop until the
thread runs (9-15% of the controller's samples in a py-spy profile). The library has no option to turn
that timer off. The window below keeps the same rule (a hit is refused when `limit` hits were accepted in
the last `span` seconds; Retry-After is when the oldest of them leaves the window), in O(1) per hit,
with no thread: a key holds at most `limit` timestamps, and keys whose hits have all left their window are
dropped by a sweep that runs inline every SWEEP_EVERY hits.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.strategies import MovingWindowRateLimiter

from kitgate.controller.settings import Settings

BUCKETS = ("submit", "read", "worker", "admin", "anon", "ip", "signin")
SWEEP_EVERY = 4096  # hits between sweeps of keys whose whole window has expired


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0
    bucket: str = ""


class MemoryWindow:
    """Exact moving windows in this process. For each (bucket, key, limit, span): the times of the last
    `limit` accepted hits (a bounded deque). A hit is allowed when fewer than `limit` of them lie in
    [now - span, now]; a refused hit consumes nothing, in any of the bucket's limits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, str, int, int], deque[float]] = {}
        self._lock = threading.Lock()  # hits come from the event loop and from worker threads
        self._until_sweep = SWEEP_EVERY

    def hit(self, items: list[RateLimitItem], bucket: str, key: str) -> float | None:
        """None when allowed (and recorded); else the seconds until the oldest blocking hit leaves."""
        now = self._clock()
        with self._lock:
            self._until_sweep -= 1
            if self._until_sweep <= 0:
                self._sweep(now)
            windows: list[deque[float]] = []
            wait: float | None = None
            for item in items:
                limit, span = item.amount, item.get_expiry()
                window = self._hits.get((bucket, key, limit, span))
                if window is None:
                    window = self._hits[(bucket, key, limit, span)] = deque(maxlen=limit)
                if limit <= 0:  # "0/minute": every call refused, as `limits` does
                    wait = max(wait or 0.0, float(span))
                elif len(window) >= limit and window[0] >= now - span:
                    wait = max(wait or 0.0, window[0] + span - now)
                windows.append(window)
            if wait is not None:
                return wait
            for window in windows:
                window.append(now)
            return None

    def _sweep(self, now: float) -> None:
        self._until_sweep = SWEEP_EVERY
        stale = [k for k, window in self._hits.items() if not window or window[-1] < now - k[3]]
        for k in stale:
            del self._hits[k]

    def __len__(self) -> int:
        """Keys held (for tests and the soak: bounded by the keys seen within one window)."""
        return len(self._hits)


class RateLimits:
    """submit/read/worker/admin per identity; anon per client IP (no valid credential); ip: optional ceiling per
    client IP over every authenticated call, so many identities behind one address cannot multiply their budgets.
    Keys are namespaced by `rate_key_prefix`, so several kitgate deployments can share one Redis."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = settings.rate_limits_enabled
        self._prefix = settings.rate_key_prefix
        self._memory: MemoryWindow | None = None
        self._redis: MovingWindowRateLimiter | None = None
        if settings.rate_storage.startswith("memory://"):
            self._memory = MemoryWindow(clock)
        else:
            from limits.storage import storage_from_string

            self._redis = MovingWindowRateLimiter(storage_from_string(settings.rate_storage))
        self._buckets: dict[str, list[RateLimitItem]] = {
            "submit": parse_many(settings.rate_submit),
            "read": parse_many(settings.rate_read),
            "worker": parse_many(settings.rate_worker),
            "admin": parse_many(settings.rate_read),
            "anon": parse_many(settings.rate_anon),
            "ip": parse_many(settings.rate_ip) if settings.rate_ip else [],
            "signin": parse_many(settings.console_rate_signin),  # the console's sign-in form, per client IP
        }

    def hit(self, bucket: str, key: str) -> Verdict:
        if not self.enabled:
            return Verdict(True)
        if self._memory is not None:
            wait = self._memory.hit(self._buckets[bucket], bucket, key)
            return Verdict(True) if wait is None else Verdict(False, max(1, math.ceil(wait)), bucket)
        assert self._redis is not None
        for item in self._buckets[bucket]:
            if not self._redis.hit(item, self._prefix, bucket, key):
                reset, _remaining = self._redis.get_window_stats(item, self._prefix, bucket, key)
                return Verdict(False, max(1, math.ceil(reset - time.time())), bucket)
        return Verdict(True)

    def hit_identity(self, bucket: str, sub: str, ip: str | None) -> Verdict:
        """The endpoint's budget for this identity, then the per-IP ceiling (when configured)."""
        verdict = self.hit(bucket, sub)
        if verdict.allowed and self._buckets["ip"] and ip:
            verdict = self.hit("ip", ip)
        return verdict
