"""Rate budgets per identity and per IP: an exact moving window kept in this process (memory://, the
default), or one shared by every replica on Redis (redis://) that fails safe to the in-process window.

Why our own window for memory://: `limits`' MemoryStorage (5.x) expires entries with a
`threading.Timer(0.01)` that it re-creates on the first hit after the previous timer fired, so under load
the controller started a new thread about every 10 ms, and `Thread.start` blocks the event loop until the
thread runs (9-15% of the controller's samples in a py-spy profile). The library has no option to turn
that timer off. The window below keeps the same rule (a hit is refused when `limit` hits were accepted in
the last `span` seconds; Retry-After is when the oldest of them leaves the window), in O(1) per hit,
with no thread: a key holds at most `limit` timestamps, and keys whose hits have all left their window are
dropped by a sweep that runs inline every SWEEP_EVERY hits.

Why redis.asyncio and a script of our own rather than `limits.aio`: the rate check sits in front of every
authenticated call, heartbeats included, so it must never block the event loop (the sync client did, 5 s
per request on a Redis that accepts but never answers) and never raise (a Redis outage answered 500 to
every call and running jobs went lost). One Lua script per hit checks every limit of the bucket and
records the hit in all of them only when all allow it (the same rule as the memory window: a refused hit
spends nothing; `limits` hits its items one by one, so a refusal by the second still spent the first),
in one round trip, on Redis' own clock (replicas' clocks may differ). And the timeouts, the retries (none)
and the connection pool are ours to set, which the circuit breaker below depends on.

Fail safe: when Redis errors or times out, the hit is answered from this replica's memory window (same
limits, per replica: N replicas then allow up to N times a budget), the fallback is counted, the state
becomes "degraded" and `on_change("degraded", reason)` runs once. Redis is then tried again by at most
one hit per `rate_redis_retry_s`, so a hung Redis costs one timeout per retry interval, not one per
request; the first answer switches back to the shared budgets and runs `on_change("restored", …)`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from limits import RateLimitItem, parse_many

from kitgate.controller.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

BUCKETS = ("submit", "read", "worker", "admin", "anon", "ip", "signin")
SWEEP_EVERY = 4096  # hits between sweeps of keys whose whole window has expired
REDIS_MAX_CONNECTIONS = 64  # per replica; a request waits at most the timeout for one to free up

log = logging.getLogger("kitgate.ratelimit")

# on_change(state, reason): "degraded" when Redis stopped answering, "restored" when it answers again
OnChange = Callable[[str, str], Awaitable[None]]

# KEYS: one list per limit of the bucket (newest hit first); ARGV: limit, span (s) per key.
# Returns nil when allowed (and recorded in every list), else the seconds until the blocking hit leaves,
# as a string (Lua numbers become integers in a reply).
_HIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = -1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i - 1])
  local span = tonumber(ARGV[2 * i])
  if limit <= 0 then
    wait = math.max(wait, span)
  elseif redis.call('LLEN', KEYS[i]) >= limit then
    local oldest = tonumber(redis.call('LINDEX', KEYS[i], limit - 1))
    if oldest >= now - span then
      wait = math.max(wait, oldest + span - now)
    end
  end
end
if wait >= 0 then
  return string.format('%.6f', wait)
end
local stamp = string.format('%.6f', now)
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i - 1])
  redis.call('LPUSH', KEYS[i], stamp)
  redis.call('LTRIM', KEYS[i], 0, limit - 1)
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 * i]) * 1000))
end
return false
"""


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
        self._lock = threading.Lock()  # cheap insurance: a hit may come from a worker thread
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


def _verdict(wait: float | None, bucket: str) -> Verdict:
    return Verdict(True) if wait is None else Verdict(False, max(1, math.ceil(wait)), bucket)


class SharedWindow:
    """The same moving windows on Redis, shared by every replica using the same URL and key prefix. Every
    call is bounded by `timeout_s` (connect and read, no retries); errors propagate to RateLimits."""

    def __init__(self, url: str, prefix: str, timeout_s: float) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        if url.startswith("redis+unix://"):  # `limits`' spelling, kept for existing configurations
            url = "unix://" + url.removeprefix("redis+unix://")
        no_retry = Retry(NoBackoff(), 0)
        pool = BlockingConnectionPool.from_url(
            url, max_connections=REDIS_MAX_CONNECTIONS, timeout=timeout_s, socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s, retry=no_retry, retry_on_timeout=False,
        )
        self._pool = pool
        self._client: Redis = Redis(connection_pool=pool, retry=no_retry)
        self._script: AsyncScript = self._client.register_script(_HIT_SCRIPT)
        self._prefix = prefix
        # one call = connect + read (+ loading the script once per Redis restart): a hard ceiling on top
        self._ceiling_s = 3 * timeout_s

    async def hit(self, items: list[RateLimitItem], bucket: str, key: str) -> float | None:
        # the {bucket:key} hash tag keeps a bucket's lists in one Redis Cluster slot, so one script sees all
        keys = [f"{self._prefix}:rate:{{{bucket}:{key}}}:{item.amount}/{item.get_expiry()}" for item in items]
        args: list[int] = []
        for item in items:
            args += [item.amount, item.get_expiry()]
        async with asyncio.timeout(self._ceiling_s):
            reply = await self._script(keys=keys, args=args)
        return None if reply is None else float(reply)

    async def ping(self) -> None:
        async with asyncio.timeout(self._ceiling_s):
            await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()
        await self._pool.disconnect()  # a pool passed in is not closed by the client


class RateLimits:
    """submit/read/worker/admin per identity; anon per client IP (no valid credential); ip: optional ceiling per
    client IP over every authenticated call, so many identities behind one address cannot multiply their budgets.
    Keys are namespaced by `rate_key_prefix`, so several kitgate deployments can share one Redis.

    `hit` never raises: on redis://, a Redis error or timeout answers from this replica's memory window."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic,
                 on_change: OnChange | None = None) -> None:
        self.enabled = settings.rate_limits_enabled
        self.on_change = on_change
        self._clock = clock
        self._memory = MemoryWindow(clock)  # memory://, and the fallback of redis://
        self._shared: SharedWindow | None = None
        if not settings.rate_storage.startswith("memory://"):
            self._shared = SharedWindow(settings.rate_storage, settings.rate_key_prefix,
                                        settings.rate_redis_timeout_s)
        self._retry_s = settings.rate_redis_retry_s
        # the circuit breaker (redis:// only)
        self.degraded = False
        self.fallbacks = 0  # hits answered from the memory window because Redis could not be used
        self.redis_calls = 0  # calls sent to Redis (hits and probes), to show the breaker holds
        self._epoch = 0  # +1 per transition: an answer to a call sent before the last one changes no state
        self._retry_at = 0.0  # while degraded: when the next call may go to Redis
        self._buckets: dict[str, list[RateLimitItem]] = {
            "submit": parse_many(settings.rate_submit),
            "read": parse_many(settings.rate_read),
            "worker": parse_many(settings.rate_worker),
            "admin": parse_many(settings.rate_read),
            "anon": parse_many(settings.rate_anon),
            "ip": parse_many(settings.rate_ip) if settings.rate_ip else [],
            "signin": parse_many(settings.console_rate_signin),  # the console's sign-in form, per client IP
        }

    @property
    def storage(self) -> Literal["memory", "redis"]:
        return "memory" if self._shared is None else "redis"

    async def hit(self, bucket: str, key: str) -> Verdict:
        if not self.enabled:
            return Verdict(True)
        items = self._buckets[bucket]
        if self._shared is None:  # memory://: no await, so no suspension on the hot path
            return _verdict(self._memory.hit(items, bucket, key), bucket)
        epoch = self._may_call()
        if epoch is not None:
            try:
                wait = await self._shared.hit(items, bucket, key)
            except Exception as exc:  # noqa: BLE001 - any failure of Redis falls back; no 500 from a rate check
                await self._failed(epoch, exc)
            else:
                await self._answered(epoch)
                return _verdict(wait, bucket)
        self.fallbacks += 1
        return _verdict(self._memory.hit(items, bucket, key), bucket)

    async def hit_identity(self, bucket: str, sub: str, ip: str | None) -> Verdict:
        """The endpoint's budget for this identity, then the per-IP ceiling (when configured)."""
        verdict = await self.hit(bucket, sub)
        if verdict.allowed and self._buckets["ip"] and ip:
            verdict = await self.hit("ip", ip)
        return verdict

    async def status(self) -> dict[str, str]:
        """For /readyz: which storage and whether budgets are shared now (nothing about the URL). Checks
        Redis with one PING when the breaker allows a call, so an idle replica notices both ways."""
        if self._shared is None:
            return {"storage": "memory", "state": "ok"}
        epoch = self._may_call()
        if epoch is not None:
            try:
                await self._shared.ping()
            except Exception as exc:  # noqa: BLE001 - reported as degraded, never raised
                await self._failed(epoch, exc)
            else:
                await self._answered(epoch)
        return {"storage": "redis", "state": "degraded" if self.degraded else "ok"}

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()

    # ---- the circuit breaker -------------------------------------------------------------------
    def _may_call(self) -> int | None:
        """The epoch to send a call under, or None: answer from memory. While degraded, one call (the probe)
        per retry interval; the others do not wait for it."""
        if self.degraded:
            now = self._clock()
            if now < self._retry_at:
                return None
            self._retry_at = now + self._retry_s  # a probe that never returns (cancelled) blocks nothing
        self.redis_calls += 1
        return self._epoch

    async def _failed(self, epoch: int, exc: Exception) -> None:
        if self.degraded:
            if epoch == self._epoch:  # the probe failed: wait a whole interval from now
                self._retry_at = self._clock() + self._retry_s
            return
        if epoch != self._epoch:  # sent before a restore that has happened since; a later call decides
            return
        self.degraded = True
        self._epoch += 1
        self._retry_at = self._clock() + self._retry_s
        reason = type(exc).__name__  # the class only: a message may name the host
        log.warning("rate limits: Redis failed (%s); budgets are per replica until it answers", reason)
        await self._notify("degraded", reason)

    async def _answered(self, epoch: int) -> None:
        if not self.degraded or epoch != self._epoch:  # healthy, or an answer to a call sent before the failure
            return
        self.degraded = False
        self._epoch += 1
        log.warning("rate limits: Redis answers again; budgets are shared")
        await self._notify("restored", "redis answered")

    async def _notify(self, state: str, reason: str) -> None:
        if self.on_change is None:
            return
        try:
            await self.on_change(state, reason)
        except Exception:  # noqa: BLE001 - the audit hook must not turn a rate check into a 500
            log.exception("rate limits: the %s hook failed", state)
