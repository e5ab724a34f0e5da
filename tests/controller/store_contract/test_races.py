"""Races between two replicas on one store: what SQLite's single write lock gave for free must hold on
PostgreSQL too, where each replica is its own pool of sessions (the races are closed in SQL).

Every test counts outcomes (no timing thresholds): each job claimed once, one job per idempotency key,
never cancelled AND running, exactly one report wins, one leader at a time, one owner per worker id.
"""

from __future__ import annotations

import asyncio

import pytest

from kitgate.controller.backend import Backend
from kitgate.controller.domain_errors import AlreadyReported, ClaimLost, InvalidTransition, WorkerIdTaken
from kitgate.controller.security.keys import KeyRing

from .support import Engine, new_job, ok_result, signer


def test_one_idempotency_key_under_50_concurrent_creates_makes_one_job(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            replicas = [a, b]
            results = await asyncio.gather(*(replicas[i % 2].jobs.create(new_job(key="same")) for i in range(50)))
            assert sum(created for _job, created in results) == 1
            assert {job.id for job, _created in results} == {(await a.jobs.list(None, 100))[0].id}
            assert len(await b.jobs.list(None, 100)) == 1
    engine.run(body)


def test_8_claimers_over_200_jobs_claim_each_exactly_once(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            ids = [(await a.jobs.create(new_job()))[0].id for _ in range(200)]
            got: list[str] = []

            async def claimer(backend: Backend, n: int) -> None:
                while (claimed := await backend.jobs.claim(f"w{n}", [], signer())) is not None:
                    got.append(claimed[0].id)

            await asyncio.gather(*(claimer(a if n % 2 else b, n) for n in range(8)))
            assert sorted(got) == sorted(ids) and len(set(got)) == len(got)  # every job exactly once
            jobs = await a.jobs.list(None, 500)
            assert {j.attempts for j in jobs} == {1} and {j.status for j in jobs} == {"running"}
            if engine.kind == "postgres":  # (SQLite's claims never suspend: one claimer drains the queue)
                assert len({j.worker_id for j in jobs}) > 1  # the claimers did race for the queue
    engine.run(body)


def test_cancel_against_claim_never_leaves_a_job_cancelled_and_running(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            jobs = [(await a.jobs.create(new_job()))[0].id for _ in range(100)]
            cancelled: set[str] = set()
            refused: set[str] = set()
            claimed: set[str] = set()

            async def cancel(job_id: str) -> None:
                try:
                    await a.jobs.cancel(job_id)
                    cancelled.add(job_id)
                except InvalidTransition as exc:
                    assert exc.details["status"] == "running"
                    refused.add(job_id)

            async def claimer(n: int) -> None:
                while (got := await b.jobs.claim(f"w{n}", [], signer())) is not None:
                    claimed.add(got[0].id)

            await asyncio.gather(*(cancel(j) for j in jobs), *(claimer(n) for n in range(4)))
            assert not cancelled & claimed  # a cancel that won means no worker holds the job
            assert claimed == refused and cancelled | claimed == set(jobs)
            final = {j.id: j.status for j in await b.jobs.list(None, 500)}
            assert all(final[j] == "cancelled" for j in cancelled) and all(final[j] == "running" for j in claimed)
    engine.run(body)


def test_a_double_report_of_one_claim_wins_once(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            held = []
            for _ in range(30):
                await a.jobs.create(new_job())
                running, _ = await a.jobs.claim("w1", [], signer(), claimed_by="tok")
                held.append(running)

            async def report(backend: Backend, job_id: str, claim: str, value: str) -> str:
                try:
                    await backend.jobs.report(job_id, "w1", claim, ok_result("w1", claim, value=value), "tok")
                    return value
                except AlreadyReported:
                    return "refused"

            outcomes = await asyncio.gather(*(report(r, job.id, job.claim_id, name) for job in held
                                              for r, name in ((a, "a"), (b, "b"))))
            pairs = [sorted(outcomes[i:i + 2]) for i in range(0, len(outcomes), 2)]
            assert all(pair in (["a", "refused"], ["b", "refused"]) for pair in pairs)
            for job, pair in zip(held, pairs, strict=True):
                winner = next(v for v in pair if v != "refused")
                assert (await b.jobs.get(job.id)).result["value"] == winner  # the stored result is the winner's
    engine.run(body)


def test_the_sweeper_and_a_late_report_never_both_win(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            held = []
            for _ in range(40):
                await a.jobs.create(new_job())
                held.append((await a.jobs.claim("w1", [], signer(), claimed_by="tok"))[0])
            engine.clock.now += 60  # every heartbeat is stale now

            async def report(job_id: str, claim: str) -> bool:
                try:
                    await b.jobs.report(job_id, "w1", claim, ok_result("w1", claim), "tok")
                    return True
                except ClaimLost:
                    return False

            outcome = await asyncio.gather(a.jobs.mark_lost(30.0), *(report(j.id, j.claim_id) for j in held))
            lost = {j.id for j in outcome[0]}
            reported = {j.id for j, ok in zip(held, outcome[1:], strict=True) if ok}
            assert not lost & reported and lost | reported == {j.id for j in held}
            final = {j.id: j.status for j in await a.jobs.list(None, 100)}
            assert {final[j] for j in lost} <= {"lost"} and {final[j] for j in reported} <= {"succeeded"}
    engine.run(body)


def test_restart_grace_credits_real_downtime_only(engine: Engine) -> None:
    """A crash-looping controller must not postpone `lost` beyond the worker's timeout plus the real downtime
    (the old rule gave every running job a fresh window at each restart: a loop kept it alive forever)."""
    timeout, interval = 30.0, 1.0

    async def body() -> None:
        async with engine.replica("first") as b:
            assert await b.jobs.recover_after_restart(interval_s=interval) == 0.0  # no sweep recorded yet
            job, _ = await b.jobs.create(new_job())
            await b.jobs.claim("w1", [], signer())  # its worker dies at once: heartbeat_at = 1000
            await b.jobs.mark_lost(timeout)  # a sweep at 1000
        downtime = 0.0
        lost_at = None
        for _restart in range(20):  # crash loop: down 5 s, up 10 s sweeping each second, crash
            engine.clock.now += 5
            downtime += 5
            async with engine.replica("again") as b:
                credited = await b.jobs.recover_after_restart(interval_s=interval)
                assert credited == pytest.approx(5.0)  # exactly the time no controller was sweeping
                for _tick in range(10):
                    engine.clock.now += interval
                    if [j.id for j in await b.jobs.mark_lost(timeout)] == [job.id]:
                        lost_at = engine.clock.now
                        break
                # a replica restarting while this one sweeps credits nothing
                assert await b.jobs.recover_after_restart(interval_s=interval) == 0.0
            if lost_at is not None:
                break
        assert lost_at is not None, "a crash loop kept a dead worker's job from ever becoming lost"
        assert lost_at <= 1000.0 + timeout + downtime + interval
        assert lost_at > 1000.0 + timeout  # the outage was credited: a live worker had time to come back
    engine.run(body)


def test_leader_is_exclusive_across_replicas(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            async with a.leader("sweeper") as lead_a, b.leader("sweeper") as lead_b, b.leader("other") as other:
                assert lead_a and other
                # SQLite: one controller per file, so every caller leads; PostgreSQL: one replica at a time
                assert lead_b is (engine.kind == "sqlite")
            async with b.leader("sweeper") as lead_b_after:
                assert lead_b_after  # released when a's block ended
            with pytest.raises(RuntimeError):
                async with a.leader("sweeper") as again:
                    assert again
                    raise RuntimeError("the sweep failed")
            async with b.leader("sweeper") as after_failure:
                assert after_failure  # released on the way out of a failed block too
    engine.run(body)


def test_concurrent_units_on_one_replica_never_share_a_transaction(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a:
            gate = asyncio.Event()
            ran: list[str] = []

            async def doomed() -> None:
                async with a.unit():
                    await a.jobs.create(new_job(code="doomed"))
                    a.after_commit(lambda: ran.append("doomed"))
                    await gate.wait()
                    raise RuntimeError("rolled back")

            async def survivor() -> None:
                if engine.kind == "sqlite":
                    gate.set()  # SQLite runs one unit at a time per file: the doomed one must end first
                async with a.unit():
                    await a.jobs.create(new_job(code="kept"))
                    a.after_commit(lambda: ran.append("kept"))
                gate.set()

            results = await asyncio.gather(doomed(), survivor(), return_exceptions=True)
            assert isinstance(results[0], RuntimeError) and results[1] is None
            assert [j.code for j in await a.jobs.list(None, 10)] == ["kept"] and ran == ["kept"]
    engine.run(body)


def test_credentials_racing_for_one_new_worker_id_bind_it_once(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            keys = KeyRing(engine.keys_dir)
            keys.load(create=False)
            tokens = a.token_store(keys, "kitgate", "kitgate-api")

            async def live(credential: str) -> bool:  # the security layer's rule (SQLite applies its own)
                record = await tokens.get(credential.partition(":")[2])
                return record is not None and record.revoked_at is None

            a.jobs.credential_live = b.jobs.credential_live = live
            credentials = [f"token:{(await tokens.issue(f'w{i}', ['worker'], ttl_s=600))[1].jti}" for i in range(10)]

            async def bind(backend: Backend, credential: str) -> str | None:
                try:
                    await backend.jobs.bind_worker("w-shared", credential)
                    return credential
                except WorkerIdTaken:
                    return None

            won = [c for c in await asyncio.gather(*(bind((a, b)[i % 2], c) for i, c in enumerate(credentials)))
                   if c is not None]
            assert len(won) == 1 and await b.jobs.worker_credential("w-shared") == won[0]
    engine.run(body)
