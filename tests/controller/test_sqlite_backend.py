"""The SQLite side of the async store boundary (controller/sqlite_backend.py), on a real SQLite file.

Why these tests: the sync Database nests transactions per THREAD, and every task of an event loop runs on
one thread. A unit of work that suspends must therefore not let another task's write join (or read) its
open transaction; a nested unit must join, not wait for itself; a state change and its audit record commit
or roll back together; after-commit work (wake-ups, the audit anchor) never runs for a rolled-back unit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from kitgate.controller.settings import Settings
from kitgate.controller.sqlite_backend import SqliteBackend
from kitgate.controller.store import JobRecord, NewJob

T = TypeVar("T")
GUARD_S = 30.0  # only turns a deadlock into a failure; never a measured threshold


class Boom(Exception):
    """Raised inside a unit to roll it back."""


def _job(owner: str = "alice", key: str | None = None) -> NewJob:
    return NewJob(owner=owner, policy="default", policy_digest="d", code="print(1)", code_sha256="s", labels=[],
                  timeout_s=None, limits={}, max_retries=0, requires_approval=False, idempotency_key=key)


def run(tmp_path: Path, body: Callable[[SqliteBackend], Awaitable[T]]) -> T:
    """A started backend on a fresh data dir, `body(backend)` on a fresh event loop, then close."""

    async def main() -> T:
        backend = SqliteBackend(Settings(data_dir=tmp_path))
        await backend.start()
        try:
            return await asyncio.wait_for(body(backend), GUARD_S)
        finally:
            await backend.close()

    return asyncio.run(main())


def committed_jobs(backend: SqliteBackend) -> list[str]:
    """What another connection sees (committed rows only): the owners of the stored jobs."""
    import sqlite3

    conn = sqlite3.connect(backend.db.path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT owner FROM jobs"))
    finally:
        conn.close()


def committed_audit(backend: SqliteBackend) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(backend.db.path)
    try:
        return [r[0] for r in conn.execute("SELECT event FROM audit ORDER BY seq")]
    finally:
        conn.close()


def test_a_nested_unit_joins_the_outer_one(tmp_path: Path) -> None:
    async def body(b: SqliteBackend) -> None:
        async with b.unit():
            async with b.unit():  # would wait for itself forever if it did not join
                await b.jobs.create(_job("inner"))
            await b.jobs.create(_job("outer"))
            assert committed_jobs(b) == [], "the inner unit committed on its own"
        assert committed_jobs(b) == ["inner", "outer"]
        with pytest.raises(Boom):
            async with b.unit():
                async with b.unit():
                    await b.jobs.create(_job("inner2"))
                raise Boom
        assert committed_jobs(b) == ["inner", "outer"], "the inner unit's row outlived the outer rollback"

    run(tmp_path, body)


def test_a_rollback_takes_the_state_change_and_its_audit_record_together(tmp_path: Path) -> None:
    async def body(b: SqliteBackend) -> tuple[list[str], list[str], dict[str, object], bool]:
        with pytest.raises(Boom):
            async with b.unit():
                job, _ = await b.jobs.create(_job("alice"))
                await b.audit.record("job_submitted", actor="alice", job_id=job.id)
                raise Boom
        async with b.unit():
            job, _ = await b.jobs.create(_job("bob"))
            await b.audit.record("job_submitted", actor="bob", job_id=job.id)
        anchor = b.audit.sync.read_anchor()
        head = await b.audit.head()
        return committed_jobs(b), committed_audit(b), head, anchor == (head["seq"], head["hash"])

    jobs, events, head, anchored = run(tmp_path, body)
    assert jobs == ["bob"]
    assert events == ["job_submitted"]
    assert head["seq"] == 1, "the rolled-back record took a place in the chain"
    assert anchored, "the head anchor does not name the committed head"


def test_a_unit_that_suspends_never_shares_its_transaction(tmp_path: Path) -> None:
    """A opens a unit, writes, suspends; B writes and reads meanwhile; A rolls back. B's write must survive
    (it never joined A's transaction) and B must never have seen A's uncommitted row.
    Without the lock (plain Database.write on one thread) B's job joins A's transaction and is rolled back."""
    order: list[str] = []

    async def body(b: SqliteBackend) -> tuple[list[str], JobRecord | None]:
        suspended = asyncio.Event()
        resume = asyncio.Event()
        a_job: dict[str, str] = {}

        async def task_a() -> None:
            with pytest.raises(Boom):
                async with b.unit():
                    job, _ = await b.jobs.create(_job("a"))
                    a_job["id"] = job.id
                    suspended.set()
                    await resume.wait()  # really suspends: B runs now
                    order.append("a-ends")
                    raise Boom

        async def task_b() -> JobRecord | None:
            await suspended.wait()
            resume_later = asyncio.get_running_loop().call_soon(resume.set)
            seen = await b.jobs.get(a_job["id"])  # waits for A's unit: its row is not committed
            order.append("b-read")
            await b.jobs.create(_job("b"))
            order.append("b-wrote")
            resume_later.cancel()
            return seen

        _, seen = await asyncio.gather(task_a(), task_b())
        return committed_jobs(b), seen

    jobs, seen = run(tmp_path, body)
    assert jobs == ["b"], "B's write joined A's transaction (rolled back with it) or A's row survived"
    assert seen is None, "B read A's uncommitted row"
    assert order == ["a-ends", "b-read", "b-wrote"]


def test_two_writers_that_suspend_commit_one_after_the_other(tmp_path: Path) -> None:
    """Many tasks each open a unit, write, yield to the loop, write again: every unit is whole (both rows or
    neither) and the one that fails rolls back alone."""

    async def body(b: SqliteBackend) -> list[str]:
        async def writer(n: int) -> None:
            async with b.unit():
                await b.jobs.create(_job(f"w{n}-1"))
                await asyncio.sleep(0)
                await b.audit.record("step", actor=f"w{n}")
                await asyncio.sleep(0)
                await b.jobs.create(_job(f"w{n}-2"))
                if n == 3:
                    raise Boom

        results = await asyncio.gather(*(writer(n) for n in range(6)), return_exceptions=True)
        assert [type(r) for r in results].count(Boom) == 1
        return committed_jobs(b)

    jobs = run(tmp_path, body)
    assert jobs == sorted(f"w{n}-{i}" for n in range(6) if n != 3 for i in (1, 2))


def test_after_commit_runs_after_the_commit_and_never_after_a_rollback(tmp_path: Path) -> None:
    calls: list[tuple[str, list[str]]] = []

    async def body(b: SqliteBackend) -> None:
        async with b.unit():
            await b.jobs.create(_job("kept"))
            b.after_commit(lambda: calls.append(("kept", committed_jobs(b))))
            assert calls == [], "ran before the commit"
        assert calls == [("kept", ["kept"])], "did not run once the unit committed, or ran before it"
        with pytest.raises(Boom):
            async with b.unit():
                await b.jobs.create(_job("dropped"))
                b.after_commit(lambda: calls.append(("dropped", committed_jobs(b))))
                raise Boom
        b.after_commit(lambda: calls.append(("outside", committed_jobs(b))))  # no unit: now
        assert [c[0] for c in calls] == ["kept", "outside"]

    run(tmp_path, body)


def test_after_commit_outside_a_unit_never_rides_on_another_tasks_unit(tmp_path: Path) -> None:
    """B, outside any unit, registers work while A's unit is open and later rolls back: B's work runs at once
    (Database.after_commit alone would have queued it on A's transaction, and A's rollback would drop it)."""
    ran: list[str] = []

    async def body(b: SqliteBackend) -> None:
        opened = asyncio.Event()
        done = asyncio.Event()

        async def task_a() -> None:
            with pytest.raises(Boom):
                async with b.unit():
                    await b.jobs.create(_job("a"))
                    opened.set()
                    await done.wait()
                    raise Boom

        async def task_b() -> None:
            await opened.wait()
            b.after_commit(lambda: ran.append("b"))
            done.set()

        await asyncio.gather(task_a(), task_b())

    run(tmp_path, body)
    assert ran == ["b"]


def test_a_task_started_inside_a_unit_does_not_join_a_later_one(tmp_path: Path) -> None:
    """A child task copies its parent's context (the unit marker); once that unit has ended, the child's write
    opens a unit of its own instead of joining whatever unit another task holds then."""

    async def body(b: SqliteBackend) -> list[str]:
        go = asyncio.Event()
        holder_open = asyncio.Event()
        release = asyncio.Event()

        async def child() -> None:
            await go.wait()
            await b.jobs.create(_job("child"))

        async def holder() -> None:
            with pytest.raises(Boom):
                async with b.unit():
                    await b.jobs.create(_job("holder"))
                    holder_open.set()
                    await release.wait()
                    raise Boom

        async with b.unit():
            spawned = asyncio.create_task(child())
        held = asyncio.create_task(holder())
        await holder_open.wait()
        go.set()
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(spawned, held)
        return committed_jobs(b)

    assert run(tmp_path, body) == ["child"]


def test_schema_status_counts_every_component(tmp_path: Path) -> None:
    async def body() -> tuple[int, int, int, bool]:
        backend = SqliteBackend(Settings(data_dir=tmp_path))
        before = await backend.schema_status()
        await backend.start()
        after = await backend.schema_status()
        alive = await backend.ping()
        await backend.close()
        return before.current, after.current, after.expected, alive and after.ok

    before, after, expected, ok = asyncio.run(body())
    assert before < expected  # the audit table exists from construction; the rest only after start()
    assert after == expected and ok


def test_a_file_from_a_newer_kitgate_is_refused_in_one_line(tmp_path: Path) -> None:
    import sqlite3

    from kitgate.controller.backend import SchemaMismatch

    run(tmp_path, lambda b: b.ping())  # create and migrate the file
    backend = SqliteBackend(Settings(data_dir=tmp_path))
    with sqlite3.connect(backend.db.path) as conn:  # what a later kitgate's extra migration step leaves
        conn.execute("UPDATE schema_components SET version = version + 1 WHERE name = 'jobs'")
    conn.close()

    async def body() -> None:
        try:
            with pytest.raises(SchemaMismatch) as refused:
                await backend.start()
        finally:
            await backend.close()
        line = str(refused.value)
        assert "\n" not in line and "jobs" in line and "newer" in line
        status = await backend.schema_status()
        assert status.current == status.expected + 1 and not status.ok

    asyncio.run(body())
