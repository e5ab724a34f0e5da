"""The live event bus on its own: scoping, replay, gaps, and a publisher that never waits for a reader.

The end-to-end behaviour (real controller, worker, SSE) is in tests/e2e/test_live_events.py; these pin
the rules the SSE route relies on, including the ones an e2e test cannot force cheaply (a reader so slow
that its queue overflows, retention running out).
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from kitgate.controller.events import EventBus, LiveEvent


def test_ids_increase_and_owner_scoping_holds() -> None:
    async def go() -> None:
        bus = EventBus()
        alice = bus.subscribe(owner="alice")
        admin = bus.subscribe(owner=None)
        one_job = bus.subscribe(owner="alice", job_id="j2")
        bus.publish("created", job_id="j1", owner="alice", data={})
        bus.publish("created", job_id="jb", owner="bob", data={"secret": 1})
        bus.publish("output", job_id="j2", owner="alice", data={"text": "x"})
        got_alice = [await alice.next(0.5) for _ in range(3)]
        assert [e.job_id for e in got_alice if e] == ["j1", "j2"]  # bob's event never reaches alice
        assert got_alice[2] is None
        got_admin = [await admin.next(0.5) for _ in range(3)]
        assert [e.id for e in got_admin if e] == [1, 2, 3]
        assert [(await one_job.next(0.5)).job_id] == ["j2"]  # type: ignore[union-attr]
        assert await one_job.next(0.05) is None

    asyncio.run(go())


def test_resume_replays_retained_events_and_says_gap_when_they_are_gone() -> None:
    async def go() -> None:
        bus = EventBus(retention=16)
        for i in range(10):
            bus.publish("output", job_id="j", owner="o", data={"seq": i})
        sub = bus.subscribe(owner="o", after_id=4)
        assert [(await sub.next(0.1)).id for _ in range(6)] == [5, 6, 7, 8, 9, 10]  # type: ignore[union-attr]
        for i in range(30):  # ids 11..40; retention keeps 25..40
            bus.publish("output", job_id="j", owner="o", data={"seq": i})
        late = bus.subscribe(owner="o", after_id=5)
        first = await late.next(0.1)
        assert first is not None and first.type == "gap" and first.data["reason"] == "retention_exceeded"
        assert (await late.next(0.1)).id == 25  # type: ignore[union-attr]
        future = bus.subscribe(owner="o", after_id=10_000)  # an id from an earlier controller process
        gap = await future.next(0.1)
        assert gap is not None and gap.data["reason"] == "unknown_last_event_id"
        assert (await future.next(0.1)).id == 25  # type: ignore[union-attr]

    asyncio.run(go())


def test_a_reader_that_falls_behind_is_cut_off_with_a_gap_and_never_blocks_the_publisher() -> None:
    async def go() -> None:
        bus = EventBus(queue_size=8)
        slow = bus.subscribe(owner=None)
        fast = bus.subscribe(owner=None, queue_size=10_000)
        for i in range(1000):  # the slow reader reads nothing meanwhile; publish must not wait for it
            bus.publish("output", job_id="j", owner="o", data={"seq": i})
        assert bus.dropped_subscribers == 1 and bus.subscriber_count() == 1
        got = [await slow.next(0.1) for _ in range(10)]
        assert [e.type for e in got if e][:8] == ["output"] * 8
        gap = got[8]
        assert gap is not None and gap.type == "gap" and gap.data == {"reason": "subscriber_too_slow",
                                                                     "resume_after": 8}
        assert got[9] is None and slow.closed
        # the cut-off reader resumes where it stopped and misses nothing retained
        again = bus.subscribe(owner=None, after_id=gap.data["resume_after"])  # type: ignore[arg-type]
        assert (await again.next(0.1)).id == 9  # type: ignore[union-attr]
        assert len([e async for e in _take(fast, 1000)]) == 1000

    asyncio.run(go())


async def _take(sub: object, n: int):  # type: ignore[no-untyped-def]
    for _ in range(n):
        ev = await sub.next(0.5)  # type: ignore[attr-defined]
        if ev is None:
            return
        yield ev


def test_publish_from_other_threads_wakes_the_reader() -> None:
    async def go() -> None:
        bus = EventBus(queue_size=1000)
        sub = bus.subscribe(owner=None)
        threads = [threading.Thread(target=lambda k=k: [bus.publish("output", job_id=f"j{k}", owner="o",
                                                                    data={"i": i}) for i in range(200)])
                   for k in range(4)]
        for t in threads:
            t.start()
        got = [await sub.next(2.0) for _ in range(800)]
        for t in threads:
            t.join()
        ids = [e.id for e in got if e is not None]
        assert len(ids) == 800 and ids == sorted(ids) and len(set(ids)) == 800

    asyncio.run(go())


def test_close_ends_iteration_and_unknown_types_are_refused() -> None:
    async def go() -> None:
        bus = EventBus()
        sub = bus.subscribe(owner=None)
        task = asyncio.create_task(_collect(sub))
        await asyncio.sleep(0)
        bus.publish("created", job_id="j", owner="o")
        bus.close()
        assert [e.type for e in await asyncio.wait_for(task, 2)] == ["created"]
        with pytest.raises(ValueError):
            bus.publish("gap", job_id="j", owner="o")
        with pytest.raises(ValueError):
            bus.publish("<script>", job_id="j", owner="o")

    asyncio.run(go())


async def _collect(sub: object) -> list[LiveEvent]:
    return [ev async for ev in sub]  # type: ignore[attr-defined]
