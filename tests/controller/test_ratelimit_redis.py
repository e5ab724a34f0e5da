"""Rate limits on Redis that fail safe (issue 15), against a PRIVATE redis-server on an ephemeral port that
the tests kill, restart and freeze (SIGSTOP: it accepts connections and never answers). The machine's
shared Redis is never touched.

Before this change, with KITGATE_RATE_STORAGE=redis://… a Redis that was down answered 500 to every
authenticated call (heartbeats too, so running jobs went lost), and a frozen one held each request for the
sync client's 5 s socket timeout. What is asserted here are counts and outcomes, never a duration: how many
calls went to Redis (the circuit breaker: at most one per retry interval), how many hits were answered from
memory, how many transitions were reported, how many responses were 500. Wall-time ratios are printed only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import service_missing
from harness import FAST_ENV, ControllerProcess, HttpWorker
from redis_server import RedisServer

from kitgate.controller.security.ratelimit import RateLimits, Verdict
from kitgate.controller.settings import Settings


class Clock:
    """The breaker's clock, moved by the test: real time plus an offset the test adds to."""

    def __init__(self, frozen: bool = False) -> None:
        self.frozen_at = time.monotonic() if frozen else None
        self.offset = 0.0

    def __call__(self) -> float:
        return (self.frozen_at if self.frozen_at is not None else time.monotonic()) + self.offset


class Changes:
    """The on_change hook: records (state, reason) in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, state: str, reason: str) -> None:
        self.seen.append((state, reason))

    @property
    def states(self) -> list[str]:
        return [state for state, _ in self.seen]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        service_missing("redis-server is not installed (the Redis fault tests start a private one)")
    server = RedisServer(tmp_path)
    yield server
    server.kill()


def _settings(url: str, **kw: object) -> Settings:
    base: dict[str, object] = {"rate_storage": url, "rate_key_prefix": f"kgtest-{secrets.token_hex(6)}",
                               "rate_redis_timeout_s": 0.1, "rate_redis_retry_s": 5.0}
    return Settings(**{**base, **kw})


async def _hits(rates: RateLimits, n: int, bucket: str = "submit", key: str = "alice") -> list[Verdict]:
    return [await rates.hit(bucket, key) for _ in range(n)]


# ---- unit level: RateLimits against a real Redis ----------------------------------------------------------
def test_two_replicas_share_one_budget(redis_server: RedisServer) -> None:
    async def run() -> None:
        settings = _settings(redis_server.url, rate_submit="10/minute")
        one, two = RateLimits(settings), RateLimits(settings)
        verdicts = []
        for _ in range(6):
            verdicts += [await one.hit("submit", "alice"), await two.hit("submit", "alice")]
        refused = [v for v in verdicts if not v.allowed]
        assert len(refused) == 2 and verdicts[-2:] == refused, "6 + 6 hits on a shared 10/minute: exactly 2 refused"
        assert all(v.bucket == "submit" and 1 <= v.retry_after_s <= 60 for v in refused)
        assert one.fallbacks == two.fallbacks == 0 and not (one.degraded or two.degraded)
        # the same on memory://: each replica has a budget of its own, so nothing is refused (what sharing fixes)
        mem_one, mem_two = RateLimits(Settings(rate_submit="10/minute")), RateLimits(Settings(rate_submit="10/minute"))
        mem = [await r.hit("submit", "alice") for _ in range(6) for r in (mem_one, mem_two)]
        assert all(v.allowed for v in mem)
        await one.close()
        await two.close()

    asyncio.run(run())


def test_a_refusal_spends_none_of_the_buckets_limits_on_redis(redis_server: RedisServer) -> None:
    """'3/hour;2/minute': the third hit is refused by the minute. `limits` hit the hour first and spent it;
    the script checks every limit before recording any. A replica limited by '3/hour' alone (same key,
    same list) still has one hit left."""

    async def run() -> None:
        settings = _settings(redis_server.url, rate_read="3/hour;2/minute")
        both = RateLimits(settings)
        verdicts = await _hits(both, 3, "read", "k")
        assert [v.allowed for v in verdicts] == [True, True, False]
        hour_only = RateLimits(settings.model_copy(update={"rate_read": "3/hour"}))
        assert [v.allowed for v in await _hits(hour_only, 2, "read", "k")] == [True, False]
        await both.close()
        await hour_only.close()

    asyncio.run(run())


def test_killed_redis_falls_back_to_memory_then_shares_again(redis_server: RedisServer) -> None:
    async def run() -> None:
        clock, changes = Clock(), Changes()
        settings = _settings(redis_server.url, rate_submit="5/minute")
        one = RateLimits(settings, clock=clock, on_change=changes)
        two = RateLimits(settings)
        assert all(v.allowed for v in await _hits(one, 2))  # 2 of the shared 5 spent on Redis
        assert await one.status() == {"storage": "redis", "state": "ok"}

        redis_server.kill()
        verdicts = await _hits(one, 8)  # every hit answers; this replica's memory window starts empty
        assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 3
        assert one.fallbacks == 8 and one.degraded
        assert changes.states == ["degraded"] and changes.seen[0][1] == "ConnectionError"
        assert await one.status() == {"storage": "redis", "state": "degraded"}
        calls = one.redis_calls

        redis_server.start()  # same port, empty (no persistence)
        await _hits(one, 3, key="bob")
        assert one.redis_calls == calls, "no call to Redis before the retry interval is over"
        assert one.fallbacks == 11

        clock.offset += 5.0  # the retry interval has passed: the next hit probes Redis and it answers
        probe = await one.hit("submit", "carol")
        assert probe.allowed and one.redis_calls == calls + 1 and not one.degraded
        assert changes.states == ["degraded", "restored"]
        assert await one.status() == {"storage": "redis", "state": "ok"}
        # shared again: carol has 1 of 5 spent; 2 more on each replica -> 5; the sixth is refused
        rest = [await one.hit("submit", "carol"), await one.hit("submit", "carol"),
                await two.hit("submit", "carol"), await two.hit("submit", "carol"), await two.hit("submit", "carol")]
        assert [v.allowed for v in rest] == [True, True, True, True, False]
        assert one.fallbacks == 11 and two.fallbacks == 0
        await one.close()
        await two.close()

    asyncio.run(run())


def test_frozen_redis_costs_one_timeout_per_retry_interval(redis_server: RedisServer) -> None:
    """SIGSTOP: connections are accepted and never answered. 200 hits within one retry interval send ONE
    call to Redis (which times out); the rest answer from memory without trying."""

    async def run() -> None:
        clock, changes = Clock(frozen=True), Changes()  # the breaker's time moves only when the test says
        settings = _settings(redis_server.url, rate_submit="100000/minute")
        rates = RateLimits(settings, clock=clock, on_change=changes)
        assert (await rates.hit("submit", "warm")).allowed  # connection open, script loaded
        calls = rates.redis_calls

        redis_server.freeze()
        try:
            started = time.perf_counter()
            verdicts = await _hits(rates, 200)
            frozen_s = time.perf_counter() - started
            assert all(v.allowed for v in verdicts) and rates.fallbacks == 200
            assert rates.redis_calls - calls == 1, "one call to the hung Redis, not one per hit"
            assert changes.seen == [("degraded", "TimeoutError")]

            clock.offset += 5.0  # next interval: 50 concurrent hits send one probe between them
            concurrent = await asyncio.gather(*(rates.hit("submit", f"k{i}") for i in range(50)))
            assert all(v.allowed for v in concurrent) and rates.redis_calls - calls == 2
            assert changes.states == ["degraded"], "a failed probe is not another transition"
        finally:
            redis_server.thaw()

        memory = RateLimits(Settings(rate_submit="100000/minute"))
        started = time.perf_counter()
        await _hits(memory, 200)
        memory_s = time.perf_counter() - started
        print(f"\n200 hits: frozen redis {frozen_s:.4f} s, memory:// {memory_s:.4f} s, "
              f"ratio {frozen_s / max(memory_s, 1e-9):.0f}x (before: 200 x the 5 s socket timeout = 1000 s)")
        await rates.close()

    asyncio.run(run())


def test_status_and_reasons_name_no_url_or_password(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if shutil.which("redis-server") is None:
        service_missing("redis-server is not installed (the Redis fault tests start a private one)")
    password = f"pw-{secrets.token_hex(12)}"
    server = RedisServer(tmp_path, password=password)

    async def failing_hook(state: str, reason: str) -> None:
        raise RuntimeError(f"the audit trail is down ({state})")

    async def run() -> None:
        good = RateLimits(_settings(server.url))
        assert (await good.hit("submit", "alice")).allowed and not good.degraded
        assert await good.status() == {"storage": "redis", "state": "ok"}
        changes = Changes()
        wrong = RateLimits(_settings(server.url.replace(password, "not-" + password)), on_change=changes)
        assert (await wrong.hit("submit", "alice")).allowed  # answered from memory, never raised
        assert changes.seen == [("degraded", "AuthenticationError")]
        status = await wrong.status()
        assert status == {"storage": "redis", "state": "degraded"}
        hooked = RateLimits(_settings("redis://127.0.0.1:1/0"), on_change=failing_hook)  # refused
        assert (await hooked.hit("submit", "alice")).allowed, "a failing on_change hook does not fail the hit"
        assert hooked.degraded
        text = json.dumps([status, changes.seen]) + caplog.text
        assert password not in text and str(server.port) not in json.dumps([status, changes.seen])
        assert await RateLimits(Settings()).status() == {"storage": "memory", "state": "ok"}
        for rates in (good, wrong, hooked):
            await rates.close()

    try:
        with caplog.at_level(logging.DEBUG, logger="kitgate"):
            asyncio.run(run())
    finally:
        server.kill()


# ---- end to end: a real controller whose Redis goes away mid-run ------------------------------------------
def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_controller_keeps_answering_when_redis_goes_away(redis_server: RedisServer, tmp_path: Path) -> None:
    env = {**FAST_ENV, "KITGATE_RATE_STORAGE": redis_server.url,
           "KITGATE_RATE_KEY_PREFIX": f"kgtest-{secrets.token_hex(6)}",
           "KITGATE_RATE_REDIS_RETRY_S": "0.5", "KITGATE_HEARTBEAT_TIMEOUT_S": "3",
           "KITGATE_LOST_CHECK_INTERVAL_S": "0.2"}
    ctl = ControllerProcess(tmp_path / "ctl", env=env)
    statuses: list[int] = []
    stop = threading.Event()

    def submitter(token: str) -> None:
        with ctl.client(token) as c:
            while not stop.is_set():
                statuses.append(c.post("/v1/jobs", json={"code": "x = 1\n", "labels": ["nobody"]}).status_code)
                statuses.append(c.get("/v1/jobs", params={"limit": 5}).status_code)

    try:
        ready = httpx.get(f"{ctl.url}/readyz").json()
        assert ready["redis"] == "ok" and ready["status"] == "ready"
        worker = HttpWorker(ctl, ctl.mint_token("worker"), "w-redis")
        with ctl.admin() as admin:
            job = admin.post("/v1/jobs", json={"code": "x = 1\n"}).json()
        claim = worker.claim()
        assert claim is not None and claim["job_id"] == job["id"]
        client = threading.Thread(target=submitter, args=(ctl.mint_token("jobs:submit", "jobs:read"),), daemon=True)
        client.start()

        def heartbeats(seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                statuses.append(worker.heartbeat(claim).status_code)
                time.sleep(0.2)

        def wait_for_redis(state: str) -> bool:
            for _ in range(100):  # readyz probes Redis once per retry interval (0.5 s here): poll, then assert
                if httpx.get(f"{ctl.url}/readyz").json()["redis"] == state:
                    return True
                time.sleep(0.1)
            return False

        heartbeats(1.0)
        redis_server.kill()  # Redis stopped mid-run
        heartbeats(4.0)  # longer than the heartbeat timeout: a refused heartbeat would make the job lost
        ready = httpx.get(f"{ctl.url}/readyz")
        assert ready.status_code == 200 and ready.json()["redis"] == "degraded"
        with ctl.admin() as admin:
            metrics = admin.get("/metrics").text
            assert _metric(metrics, "kitgate_ratelimit_degraded") == 1.0
            assert _metric(metrics, "kitgate_ratelimit_fallback_total") > 0

        redis_server.start()
        back = wait_for_redis("ok")
        heartbeats(0.5)
        redis_server.freeze()  # accepts, never answers
        heartbeats(1.0)
        frozen_ready = httpx.get(f"{ctl.url}/readyz")
        redis_server.thaw()
        back_again = wait_for_redis("ok")
        stop.set()
        client.join(30)

        assert worker.report(claim).status_code == 200
        with ctl.admin() as admin:
            final = admin.get(f"/v1/jobs/{job['id']}").json()
            degraded = admin.get("/v1/audit", params={"event": "ratelimit.degraded"}).json()["records"]
            restored = admin.get("/v1/audit", params={"event": "ratelimit.restored"}).json()["records"]
        worker.close()
        assert statuses and all(s < 400 for s in statuses), sorted(set(statuses))  # no 500, nothing refused
        assert back and back_again, "Redis answered again and the controller went back to shared budgets"
        assert final["status"] == "succeeded", final["status"]  # not lost: every heartbeat got through
        assert frozen_ready.status_code == 200 and frozen_ready.json()["redis"] == "degraded"
        assert len(degraded) == 2 and len(restored) == 2  # killed, back, frozen, back
        assert {r["data"]["detail"] for r in degraded} == {"ConnectionError", "TimeoutError"}
        print(f"\n{len(statuses)} responses during the outages, none a 500")
    finally:
        stop.set()
        ctl.stop()
