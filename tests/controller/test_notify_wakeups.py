"""Cross-replica wake-ups on the real PostgreSQL: two Notifiers ("replica A" and "replica B"), each with its
own PgWakeups on the same schema, in one event loop (the channel, not the process, is what they share).

Nothing here asserts a duration. Waits are guarded by GUARD_S only so that a broken build fails instead of
hanging; latencies are measured and printed. Ordering questions ("did X arrive?") are answered with a marker
notification sent after X: PostgreSQL delivers notifications to a listener in commit order, so once the
marker is in, anything committed before it is in too.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import statistics
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import pytest
from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow

from kitgate.controller.notify import SAFETY_POLL_S, Notifier
from kitgate.controller.pg.listen import MAX_IDENTIFIER_BYTES, PgWakeups, channel_names, job_payloads

GUARD_S = 60.0
T = TypeVar("T")


async def guarded(aw: Awaitable[T]) -> T:
    return await asyncio.wait_for(aw, GUARD_S)


class Replica:
    """One controller's notifier fed by its own PgWakeups, with the listener task running."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.wakeups = PgWakeups(url, schema)
        self.notifier = Notifier(self.wakeups)
        self.notifier.bind(asyncio.get_running_loop())
        self.task = asyncio.create_task(self.notifier.listen())

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def replicas(url: str, n: int = 2, schema: str | None = None) -> AsyncIterator[list[Replica]]:
    started = [Replica(url, schema) for _ in range(n)]
    try:
        for r in started:
            await guarded(r.wakeups.listening.wait())
        yield started
    finally:
        for r in started:
            await r.close()


async def marker_through(sender: PgWakeups, seen: asyncio.Event) -> None:
    """Send a queue wake-up from `sender` and wait until the listener under test saw it (`seen`)."""
    sender.queue_changed()
    await guarded(sender.flush())
    await guarded(seen.wait())


def test_queue_change_on_a_wakes_a_claimer_waiting_on_b(pg_url: str) -> None:
    async def main() -> None:
        async with replicas(pg_url) as (a, b):
            latencies = []
            for round_ in range(20):
                waiting_b = b.notifier.queue_event()  # what a long-polling claimer on B holds
                waiting_a = a.notifier.queue_event()
                t0 = time.perf_counter()
                if round_ % 5 == 4:  # the service may also call from a worker thread: marshalled onto the loop
                    threading.Thread(target=a.notifier.queue_changed).start()
                else:
                    a.notifier.queue_changed()
                await guarded(waiting_b.wait())
                latencies.append(time.perf_counter() - t0)
                assert waiting_a.is_set()  # the local claimers woke too (in-process, as before)
            assert len(latencies) == 20 and a.wakeups.send_failures == 0
            print(f"\nA->B queue wake-up latency over 20: p50 {statistics.median(latencies) * 1e3:.2f} ms, "
                  f"max {max(latencies) * 1e3:.2f} ms (busy shared 2-core box)")

    asyncio.run(main())


def test_own_notifications_are_skipped_and_remote_ones_fire_locally_only(pg_url: str) -> None:
    async def main() -> None:
        got_1: list[str] = []
        got_2: list[str] = []
        seen_by_1 = asyncio.Event()
        w1, w2 = PgWakeups(pg_url), PgWakeups(pg_url)

        def on_queue_1() -> None:
            got_1.append("q")
            seen_by_1.set()

        tasks = [asyncio.create_task(w1.run(on_queue_1, got_1.append)),
                 asyncio.create_task(w2.run(lambda: got_2.append("q"), got_2.append))]
        try:
            await guarded(w1.listening.wait())
            await guarded(w2.listening.wait())
            w1.queue_changed()
            w1.job_finished("j_one")
            await guarded(w1.flush())
            await marker_through(w2, seen_by_1)  # w1's own NOTIFY reached w1 before this marker did
            assert got_1 == ["q"]  # only the marker: its own queue and job notifications were skipped
            assert got_2 == ["q", "j_one"]  # w2 heard w1 once per channel, in one statement
            assert w1.sent == 1
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def test_job_finished_on_a_wakes_a_result_waiter_on_b(pg_url: str) -> None:
    async def main() -> None:
        async with replicas(pg_url) as (a, b):
            on_b = b.notifier.job_event("j_single")
            on_a = a.notifier.job_event("j_single")
            record = object()  # the stored record the reporting replica has in hand
            t0 = time.perf_counter()
            a.notifier.job_finished("j_single", record)
            await guarded(on_b.wait())
            print(f"\nA->B job wake-up latency: {(time.perf_counter() - t0) * 1e3:.2f} ms")
            assert on_a.job is record  # local waiters get the record, as before
            assert on_b.job is None  # remote waiters read it back themselves

            # many jobs finishing in one tick: one statement, the ids split over payloads under 8000 bytes
            ids = [f"j_{secrets.token_hex(12)}" for _ in range(2000)]
            events = [b.notifier.job_event(i) for i in ids]
            await guarded(a.wakeups.flush())  # B can hear a NOTIFY before A's execute() has returned
            sent_before = a.wakeups.sent
            for i in ids:
                a.notifier.job_finished(i)
            await guarded(a.wakeups.flush())
            await guarded(asyncio.gather(*(e.wait() for e in events)))
            assert all(e.is_set() and e.job is None for e in events)
            assert a.wakeups.sent - sent_before == 1
            assert b.notifier.waiting_jobs == 0  # every woken entry was popped

    asyncio.run(main())


def test_a_thousand_queue_changes_in_one_tick_are_one_notify(pg_url: str) -> None:
    async def main() -> None:
        async with replicas(pg_url) as (a, b):
            observer = await AsyncConnection.connect(pg_url, autocommit=True)
            try:
                row = await (await observer.execute("SELECT current_schema()")).fetchone()
                assert row is not None
                q_channel, _ = channel_names(str(row[0]))
                await observer.execute(sql.SQL("LISTEN {}").format(sql.Identifier(q_channel)))
                marker = PgWakeups(pg_url)
                sent_before = a.wakeups.sent
                waiting_a = a.notifier.queue_event()
                for _ in range(1000):  # one loop tick: no await in between
                    a.notifier.queue_changed()
                assert waiting_a.is_set()
                await guarded(a.wakeups.flush())
                marker.queue_changed()
                await guarded(marker.flush())
                await marker.aclose()
                payloads: list[str] = []
                async for note in observer.notifies(timeout=GUARD_S):
                    if note.payload == marker.sender_id:
                        break
                    payloads.append(note.payload)
                assert payloads == [a.wakeups.sender_id]  # exactly one NOTIFY for 1000 calls
                assert a.wakeups.sent - sent_before == 1
            finally:
                await observer.close()

    asyncio.run(main())


def test_another_schema_never_wakes(pg_url: str) -> None:
    other = f"other_{secrets.token_hex(4)}"  # channel names only: the schema need not exist

    async def main() -> None:
        async with replicas(pg_url) as (a, b), replicas(pg_url, n=1, schema=other) as (c,):
            assert channel_names(other) != await_channels(b)
            waiting_c = c.notifier.queue_event()
            marker_c = c.notifier.job_event("j_marker")
            waiting_b = b.notifier.queue_event()
            a.notifier.queue_changed()
            a.notifier.job_finished("j_marker")
            await guarded(a.wakeups.flush())
            await guarded(waiting_b.wait())
            sender_other = PgWakeups(pg_url, other)  # a replica of the other deployment finishes j_marker
            sender_other.job_finished("j_marker")
            await guarded(sender_other.flush())
            await sender_other.aclose()
            await guarded(marker_c.wait())  # C heard its own deployment ...
            assert not waiting_c.is_set()  # ... and nothing of A's, which was committed before the marker

    def await_channels(r: Replica) -> tuple[str, str] | None:
        return r.wakeups._channels  # noqa: SLF001 - the discovered (current_schema) channels

    asyncio.run(main())


def test_listener_reconnects_after_its_session_is_terminated(pg_url: str) -> None:
    async def main() -> None:
        async with replicas(pg_url) as (a, b):
            admin = await AsyncConnection.connect(pg_url, autocommit=True)
            try:
                old_pid = b.wakeups.listener_pid
                assert old_pid is not None
                waiting_b = b.notifier.queue_event()
                t0 = time.perf_counter()
                # only the listener's own session, by its pid
                await admin.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
                await guarded(waiting_b.wait())  # the reconnect itself wakes claimers: they look again
                print(f"\nlistener back after {(time.perf_counter() - t0) * 1e3:.1f} ms")
                assert b.wakeups.reconnects == 1
                assert b.wakeups.listener_pid not in (None, old_pid)
                waiting_b = b.notifier.queue_event()
                a.notifier.queue_changed()
                await guarded(waiting_b.wait())  # and cross-replica wake-ups work again

                # the sender's session dies too (as after a PostgreSQL restart): the next send finds it dead
                # and goes out on a fresh session, so that wake-up is not lost either
                sender_pid = a.wakeups.sender_pid
                assert sender_pid is not None
                await admin.execute("SELECT pg_terminate_backend(%s)", (sender_pid,))
                await guarded(gone(admin, sender_pid))
                waiting_b = b.notifier.queue_event()
                a.notifier.queue_changed()
                await guarded(a.wakeups.flush())
                await guarded(waiting_b.wait())
                assert a.wakeups.send_failures == 0
                assert a.wakeups.sender_pid not in (None, sender_pid)
            finally:
                await admin.close()

    asyncio.run(main())


async def gone(admin: AsyncConnection[TupleRow], pid: int) -> None:
    """Until the terminated backend has exited (termination is asynchronous)."""
    while await (await admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid=%s", (pid,))).fetchone():
        await asyncio.sleep(0.01)


def test_without_wakeups_the_in_process_notifier_is_unchanged() -> None:
    async def main() -> None:
        n = Notifier()
        assert n.wakeups is None and n.poll_s is None and n.wait_cap(25.0) == 25.0
        await guarded(n.listen())  # nothing to listen to: returns at once
        n.bind(asyncio.get_running_loop())
        waiting = n.queue_event()
        n.queue_changed()
        assert waiting.is_set() and n.queue_event() is not waiting
        ev = n.job_event("j_1")
        n.job_finished("j_1", "record")
        assert ev.is_set() and ev.job == "record" and n.waiting_jobs == 0

    asyncio.run(main())


def test_a_failed_send_is_logged_and_dropped_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        with socket.socket() as s:  # a port nothing listens on: every connect is refused
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        wakeups = PgWakeups(f"postgresql://postgres@127.0.0.1:{port}/x", "s")
        notifier = Notifier(wakeups)
        waiting = notifier.queue_event()
        notifier.queue_changed()  # returns normally: the commit already happened
        notifier.job_finished("j_1")
        assert waiting.is_set()  # local waiters still woke
        await guarded(wakeups.flush())
        assert wakeups.send_failures == 1 and wakeups.sent == 0  # both coalesced into one failed attempt
        await wakeups.aclose()

    asyncio.run(main())
    assert "wake-up NOTIFY failed" in caplog.text


def test_safety_poll_defaults() -> None:
    wakeups = PgWakeups("postgresql://nowhere.invalid/x", "s")  # never connects: nothing is sent or heard
    assert Notifier(wakeups).poll_s == SAFETY_POLL_S
    assert Notifier(wakeups, poll_s=0.25).wait_cap(10.0) == 0.25
    assert Notifier(wakeups, poll_s=0.25).wait_cap(0.1) == 0.1
    assert Notifier(poll_s=2.0).poll_s == 2.0


@pytest.mark.parametrize("schema", ["public", "t_0123abcd", "Mixed", "a" * 63, "sp ace", "ä", 'q"uote'])
def test_channel_names_fit_and_differ(schema: str) -> None:
    q, j = channel_names(schema)
    assert q != j and len(q.encode()) <= MAX_IDENTIFIER_BYTES and len(j.encode()) <= MAX_IDENTIFIER_BYTES
    assert q.isascii() and all(ch.isalnum() or ch == "_" for ch in q)
    others = {channel_names(s)[0] for s in ["public", "t_0123abcd", "Mixed", "mixed", "a" * 63, "a" * 64]}
    assert sum(q == o for o in others) <= 1


def test_job_payloads_stay_under_the_limit() -> None:
    ids = [f"j_{i:024x}" for i in range(1000)]
    payloads = job_payloads("s" * 16, ids)
    assert len(payloads) > 1 and all(len(p.encode()) < 8000 for p in payloads)
    assert [i for p in payloads for i in p.split()[1:]] == ids
    assert job_payloads("s", ["bad id", "", "x" * 9000]) == []
