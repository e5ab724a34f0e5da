"""The in-process rate window (memory://): the moving-window rule with an injected clock, bounded keys,
and no thread started per request (limits' MemoryStorage started a Timer thread about every 10 ms under
load, and Thread.start blocks the controller's event loop).

The thread test counts `Thread.start` calls while hits arrive more than 10 ms apart, which is when the
old storage re-armed its timer; the count, not a time, is asserted. `RateLimits.hit` is a coroutine; on
memory:// it never suspends, which `_now` checks on every call by running it to its end in one step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Coroutine

import pytest

from kitgate.controller.security import ratelimit
from kitgate.controller.security.ratelimit import MemoryWindow, RateLimits, Verdict
from kitgate.controller.settings import Settings


def _now(coro: Coroutine[None, None, Verdict]) -> Verdict:
    """Run a hit that must complete without suspending (memory://: no await on the hot path)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("a memory:// hit suspended")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limits(clock: Clock, **kw: str) -> RateLimits:
    return RateLimits(Settings(rate_storage="memory://", **kw), clock=clock)


def test_moving_window_refuses_the_extra_hit_until_the_oldest_leaves() -> None:
    clock = Clock()
    rates = _limits(clock, rate_submit="3/minute")
    for at in (0, 10, 30):
        clock.now = 1000.0 + at
        assert _now(rates.hit("submit", "alice")).allowed
    clock.now = 1000.0 + 40
    refused = _now(rates.hit("submit", "alice"))
    assert (refused.allowed, refused.bucket, refused.retry_after_s) == (False, "submit", 20)  # oldest leaves at 60
    assert _now(rates.hit("submit", "bob")).allowed, "budgets are per key"
    clock.now = 1000.0 + 59.5
    assert not _now(rates.hit("submit", "alice")).allowed, "a hit exactly inside the window still counts"
    clock.now = 1000.0 + 60.5
    assert _now(rates.hit("submit", "alice")).allowed, "the t=0 hit has left the window"
    assert not _now(rates.hit("submit", "alice")).allowed, "t=10 and t=30 are still inside, plus the new one"


def test_every_limit_of_a_bucket_applies_and_a_refusal_consumes_nothing() -> None:
    clock = Clock()
    rates = _limits(clock, rate_read="2/second;3/minute")
    assert _now(rates.hit("read", "k")).allowed and _now(rates.hit("read", "k")).allowed
    second = _now(rates.hit("read", "k"))
    assert not second.allowed and second.retry_after_s == 1
    clock.now += 1.5
    assert _now(rates.hit("read", "k")).allowed  # per second freed; third of the minute
    clock.now += 1.5
    minute = _now(rates.hit("read", "k"))
    assert not minute.allowed and minute.retry_after_s == 57  # the minute budget blocks, the second one is free
    clock.now += 57.1
    assert _now(rates.hit("read", "k")).allowed


def test_a_zero_budget_refuses_every_call() -> None:
    rates = _limits(Clock(), rate_submit="0/minute")
    verdicts = [_now(rates.hit("submit", "alice")) for _ in range(3)]
    assert [(v.allowed, v.retry_after_s) for v in verdicts] == [(False, 60)] * 3


def test_keys_whose_window_has_passed_are_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "SWEEP_EVERY", 50)
    clock = Clock()
    window = MemoryWindow(clock)
    items = ratelimit.parse_many("5/second")
    for i in range(200):  # 200 distinct client addresses, one hit each, 0.1 s apart
        assert window.hit(items, "anon", f"10.0.0.{i}") is None
        clock.now += 0.1
    assert len(window) <= 50 + 10, "only keys hit within the last second (plus one sweep period) are held"
    assert all(len(w) <= 5 for w in window._hits.values()), "a key holds at most `limit` timestamps"


def test_no_thread_is_started_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = RateLimits(Settings(rate_storage="memory://", rate_read="100000/minute"))
    for _ in range(10):  # warm-up
        _now(rates.hit_identity("read", "alice", "127.0.0.1"))
    started: list[str] = []
    real_start = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        started.append(self.name)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    for _ in range(20):
        assert _now(rates.hit("read", "alice")).allowed
        time.sleep(0.015)  # past limits' 10 ms expiry timer, which it re-armed on the next hit
    assert started == []
