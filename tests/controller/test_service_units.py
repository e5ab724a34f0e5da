"""The job service on the async store boundary (jobs_service.py), on both engines (a real SQLite file and a real
PostgreSQL schema) with a real security layer.

Why these tests: with several replicas, a wake-up may come from another process without the record, or not at
all (NOTIFY is best-effort), and one sent before the commit can wake a claimer that then finds nothing. So the
service sends every wake-up after the commit, re-reads the job when a wake-up carries no record, and caps each
wait of a long-poll at the notifier's safety poll. The safety-poll checks fail (at GUARD_S) with one wait for
the whole timeout, as the service waited before; the commit check fails with wake-ups sent before the commit
(both checked by patching those two points back).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from kitgate.controller.app import build_context
from kitgate.controller.jobs_service import Caller, JobService
from kitgate.controller.models import CodeExecuteRequest
from kitgate.controller.notify import Notifier
from kitgate.controller.security.principal import Principal
from kitgate.controller.settings import Settings
from kitgate.controller.store import JobRecord, NewJob

T = TypeVar("T")
GUARD_S = 30.0  # only turns a hang into a failure; never a measured threshold
LONG_S = 600.0  # a wait (far past GUARD_S) that only a wake-up or the safety poll can end before the guard


class Boom(Exception):
    """Raised inside a unit to roll it back."""


def caller(sub: str, token_id: str) -> Caller:
    principal = Principal(sub=sub, kind="token", scopes=frozenset({"jobs:submit", "jobs:read", "worker"}),
                          policies=None, token_id=token_id)
    return Caller(principal=principal, ip="127.0.0.1", request_id=None)


ALICE = caller("alice", "t-alice")
WORKER = caller("worker", "t-worker")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: the data dir's SQLite file; else a fresh PostgreSQL schema (skipped locally without the service)."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


@asynccontextmanager
async def service(tmp_path: Path, url: str | None, poll_s: float | None) -> AsyncIterator[JobService]:
    """A started controller's service (backend, keys, audit, events) with a notifier of our choosing."""
    settings = Settings(data_dir=tmp_path / "data", claim_max_wait_s=LONG_S)
    if url is not None:  # what `kitgate init` and `kitgate db migrate` do once per deployment
        from kitgate.controller.pg import migrate
        from kitgate.controller.security.keys import KeyRing

        KeyRing(tmp_path / "keys").load(create=True)
        await migrate.apply(url)
        settings = Settings(data_dir=tmp_path / "data", claim_max_wait_s=LONG_S, database_url=url,
                            keys_dir=tmp_path / "keys")
    ctx = build_context(settings)
    await ctx.backend.start()
    try:
        await ctx.security.startup()
        notifier = Notifier(poll_s=poll_s)
        notifier.bind(asyncio.get_running_loop())
        yield JobService(ctx.settings, ctx.backend, notifier, ctx.metrics, ctx.security, events=ctx.events)
    finally:
        await ctx.backend.close()


def run(tmp_path: Path, url: str | None, poll_s: float | None, body: Callable[[JobService], Awaitable[T]]) -> T:
    async def main() -> T:
        async with service(tmp_path, url, poll_s) as svc:
            return await asyncio.wait_for(body(svc), GUARD_S)

    return asyncio.run(main())


async def finish_elsewhere(svc: JobService, job: JobRecord) -> None:
    """What another replica does: claim and report through the store, with no wake-up on this notifier."""

    def sign(j: JobRecord, worker: str, attempt: int) -> tuple[str, str]:
        return f"env.{j.id}", f"claim-{j.id}-{attempt}"

    claimed = await svc.store.claim("w-elsewhere", [], sign, claimed_by="other")
    assert claimed is not None and claimed[0].id == job.id
    await svc.store.report(job.id, "w-elsewhere", claimed[0].claim_id, {
        "status": "succeeded", "worker_id": "w-elsewhere", "claim_id": claimed[0].claim_id, "stdout": "",
        "timings": {}}, reporter="other")


def test_a_result_whose_wakeup_never_came_is_found_by_the_safety_poll(tmp_path: Path, database_url: str | None) -> None:
    async def body(svc: JobService) -> JobRecord:
        job, _ = await svc.submit(CodeExecuteRequest(code="x = 1\n"), ALICE, None)
        waiting = asyncio.create_task(svc.wait(job.id, LONG_S))
        await asyncio.sleep(0)  # the waiter holds its event and has read the job (queued)
        await finish_elsewhere(svc, job)
        return await waiting

    job = run(tmp_path, database_url, 0.05, body)  # without the safety poll: asyncio.TimeoutError at GUARD_S
    assert job.status == "succeeded"


def test_a_wakeup_without_the_record_reads_the_job_again(tmp_path: Path, database_url: str | None) -> None:
    async def body(svc: JobService) -> JobRecord:
        job, _ = await svc.submit(CodeExecuteRequest(code="x = 1\n"), ALICE, None)
        waiting = asyncio.create_task(svc.wait(job.id, LONG_S))
        await asyncio.sleep(0)
        await finish_elsewhere(svc, job)
        svc.notifier.job_finished(job.id)  # as another replica's NOTIFY arrives: the id, no record
        return await waiting

    job = run(tmp_path, database_url, None, body)  # no safety poll: only the wake-up can end this wait early
    assert job.status == "succeeded"


def test_a_claim_whose_wakeup_never_came_is_found_by_the_safety_poll(tmp_path: Path, database_url: str | None) -> None:
    async def body(svc: JobService) -> tuple[JobRecord, str] | None:
        polling = asyncio.create_task(svc.claim("w-here", [], LONG_S, WORKER))
        await asyncio.sleep(0)  # the claimer has looked (nothing queued) and waits
        async with svc.backend.unit():  # submitted on another replica: nothing wakes this notifier
            await svc.store.create(_new_job())
        return await polling

    claimed = run(tmp_path, database_url, 0.05, body)  # without the safety poll: asyncio.TimeoutError at GUARD_S
    assert claimed is not None and claimed[0].owner == "bob"


def _new_job() -> NewJob:
    return NewJob(owner="bob", policy="scene-edit", policy_digest="sha256:abc", code="x = 1", code_sha256="c" * 64,
                  labels=[], timeout_s=5.0, limits={"timeout_s": 5}, max_retries=0, requires_approval=False,
                  idempotency_key=None)


def test_wakeups_and_events_follow_the_commit_and_never_a_rollback(tmp_path: Path, database_url: str | None) -> None:
    async def body(svc: JobService) -> None:
        queue = svc.notifier.queue_event()
        seen = svc.events.last_id
        async with svc.backend.unit():  # the submit joins this outer unit: nothing is committed yet
            job, _ = await svc.submit(CodeExecuteRequest(code="x = 1\n"), ALICE, None)
            assert not queue.is_set(), "claimers were woken before the job was committed"
            assert svc.events.last_id == seen, "a live event was published before the commit"
        assert queue.is_set()
        assert [e.type for e in svc.events.retained(job_id=job.id)] == ["created"]

        queue = svc.notifier.queue_event()
        seen = svc.events.last_id
        with pytest.raises(Boom):
            async with svc.backend.unit():
                rolled_back, _ = await svc.submit(CodeExecuteRequest(code="y = 2\n"), ALICE, None)
                raise Boom
        assert not queue.is_set(), "a rolled-back submit woke the claimers"
        assert svc.events.last_id == seen, "a rolled-back submit published a live event"
        assert await svc.store.get(rolled_back.id) is None
        assert [r["event"] for r in await svc.security.audit.for_job(rolled_back.id)] == [], \
            "the audit record outlived its rolled-back change"

    run(tmp_path, database_url, None, body)


def test_a_cancel_commits_with_its_audit_record_and_then_wakes_the_waiter(tmp_path: Path,
                                                                          database_url: str | None) -> None:
    async def body(svc: JobService) -> tuple[JobRecord, list[str]]:
        job, _ = await svc.submit(CodeExecuteRequest(code="x = 1\n"), ALICE, None)
        waiting = asyncio.create_task(svc.wait(job.id, LONG_S))
        await asyncio.sleep(0)
        await svc.cancel(job.id, ALICE)
        finished = await waiting
        return finished, [r["event"] for r in await svc.security.audit.for_job(job.id)]

    job, trail = run(tmp_path, database_url, None, body)
    assert job.status == "cancelled"
    assert trail == ["job_submitted", "job_cancelled"]
