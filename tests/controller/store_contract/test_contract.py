"""The store contract on both engines: job lifecycle, claims, idempotency, lost jobs, retries, transitions,
units of work, pictures and credentials (the behaviours of test_store.py, through backend.py's protocols)."""

from __future__ import annotations

import hashlib

import pytest

from kitgate.controller.domain_errors import (
    AlreadyReported,
    ClaimLost,
    DomainError,
    InvalidTransition,
    JobNotFound,
    NotClaimed,
    WorkerIdTaken,
    WorkerNotFound,
)
from kitgate.controller.security.keys import KeyRing
from kitgate.controller.security.tokens import AuthFailure

from .support import Engine, new_job, ok_result, signer


def test_lifecycle_records_timings(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            job, created = await b.jobs.create(new_job())
            assert created and job.status == "queued" and job.queued_at == 1000.0
            assert job.limits == {"timeout_s": 5, "b": [1, 2], "a": None}
            assert list(job.limits) == ["timeout_s", "b", "a"]  # as submitted, key order included
            engine.clock.now = 1001.0
            claimed = await b.jobs.claim("w1", [], signer(), claimed_by="worker-token")
            assert claimed is not None
            running, envelope = claimed
            assert running.status == "running" and running.attempts == 1 and envelope == f"env.{job.id}.1"
            assert running == await b.jobs.get(job.id)
            engine.clock.now = 1003.0
            done, requeued = await b.jobs.report(job.id, "w1", running.claim_id, ok_result("w1", running.claim_id),
                                                 "worker-token")
            assert not requeued and done.status == "succeeded" and done.finished_at == 1003.0
            timings = done.result["timings"]
            assert (timings["queued_at"], timings["claimed_at"], timings["finished_at"]) == (1000.0, 1001.0, 1003.0)
            assert done.result["claim_id"] is None  # the claim secret is not handed back to readers
            with pytest.raises(AlreadyReported) as again:
                await b.jobs.report(job.id, "w1", running.claim_id, ok_result("w1", running.claim_id), "worker-token")
            assert again.value.code == "already_reported"
    engine.run(body)


def test_report_from_another_worker_or_token_is_refused(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            job, _ = await b.jobs.create(new_job())
            running, _ = await b.jobs.claim("w1", [], signer(), claimed_by="tok-a")
            for worker, claim, reporter in [("w2", running.claim_id, "tok-a"), ("w1", "forged", "tok-a"),
                                            ("w1", running.claim_id, "tok-b")]:
                with pytest.raises(NotClaimed) as err:
                    await b.jobs.report(job.id, worker, claim, ok_result(worker, claim), reporter)
                assert err.value.code == "not_claimed"
            assert (await b.jobs.get(job.id)).status == "running"
            with pytest.raises(JobNotFound) as missing:
                await b.jobs.report("j_nope", "w1", "c", ok_result("w1", "c"), "tok-a")
            assert missing.value.code == "not_found" and missing.value.job_id == "j_nope"
    engine.run(body)


def test_claim_is_fifo_and_respects_labels_and_policies(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            gpu, _ = await b.jobs.create(new_job(labels=["gpu"]))
            engine.clock.now += 1
            plain, _ = await b.jobs.create(new_job())
            engine.clock.now += 1
            both, _ = await b.jobs.create(new_job(labels=["gpu", "isaac"]))
            engine.clock.now += 1
            readonly, _ = await b.jobs.create(new_job(policy="readonly"))
            first, _ = await b.jobs.claim("cpu-worker", [], signer())
            assert first.id == plain.id  # the gpu job is older but this worker lacks the label
            assert await b.jobs.claim("cpu-worker", [], signer(), policies=frozenset({"scene-edit"})) is None
            second, _ = await b.jobs.claim("gpu-worker", ["gpu"], signer())
            assert second.id == gpu.id
            assert await b.jobs.claim("gpu-worker", ["gpu"], signer(), policies=frozenset({"scene-edit"})) is None
            third, _ = await b.jobs.claim("big", ["isaac", "gpu", "extra"], signer())
            assert third.id == both.id
            fourth, _ = await b.jobs.claim("ro", [], signer(), policies=frozenset({"readonly"}))
            assert fourth.id == readonly.id
            assert {w["id"]: w["labels"] for w in await b.jobs.workers()}["big"] == ["extra", "gpu", "isaac"]
    engine.run(body)


def test_idempotency_key_is_per_owner(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            a, created_a = await b.jobs.create(new_job(key="k1"))
            again, created_again = await b.jobs.create(new_job(key="k1"))
            other, created_other = await b.jobs.create(new_job(owner="bob", key="k1"))
            assert created_a and not created_again and again.id == a.id
            assert created_other and other.id != a.id
            assert (await b.jobs.find_idempotent("alice", "k1")).id == a.id
            assert await b.jobs.find_idempotent("carol", "k1") is None
    engine.run(body)


def test_stale_running_jobs_become_lost_never_requeued(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            job, _ = await b.jobs.create(new_job(retries=5))
            running, _ = await b.jobs.claim("w1", [], signer(), claimed_by="tok")
            engine.clock.now += 10
            assert await b.jobs.heartbeat("w1", job.id, running.claim_id, None, "running", reporter="other") is True
            assert await b.jobs.heartbeat("w1", job.id, running.claim_id, None, "running", reporter="tok") is False
            assert (await b.jobs.get(job.id)).started_at == engine.clock.now
            engine.clock.now += 20
            assert await b.jobs.mark_lost(30.0) == []  # heartbeat 20 s ago: still alive
            engine.clock.now += 15
            lost = await b.jobs.mark_lost(30.0)
            assert [j.id for j in lost] == [job.id] and lost[0].status == "lost"
            assert await b.jobs.claim("w2", [], signer()) is None  # not re-queued
            # a heartbeat after `lost`: the worker is told to abandon the job
            assert await b.jobs.heartbeat("w1", job.id, running.claim_id, None, "running", reporter="tok") is True
            with pytest.raises(ClaimLost) as late:
                await b.jobs.report(job.id, "w1", running.claim_id, ok_result("w1", running.claim_id), "tok")
            assert late.value.code == "claim_lost"
            assert (await b.jobs.get(job.id)).status == "lost"
    engine.run(body)


def test_not_started_rejection_is_retried_up_to_max_retries(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            job, _ = await b.jobs.create(new_job(retries=1))
            calls: list[tuple[str, str, int]] = []
            running, _ = await b.jobs.claim("w1", [], signer(calls))
            refused = ok_result("w1", running.claim_id, "rejected",
                                error={"type": "not_started", "message": "expired"})
            back, requeued = await b.jobs.report(job.id, "w1", running.claim_id, refused, None)
            assert requeued and back.status == "queued" and back.worker_id is None and back.claim_id is None
            running2, _ = await b.jobs.claim("w2", [], signer(calls))
            assert running2.id == job.id and running2.attempts == 2
            refused2 = ok_result("w2", running2.claim_id, "rejected",
                                 error={"type": "not_started", "message": "expired"})
            final, requeued2 = await b.jobs.report(job.id, "w2", running2.claim_id, refused2, None)
            assert not requeued2 and final.status == "rejected"  # retries exhausted
            assert [c[2] for c in calls] == [1, 2]
            other, _ = await b.jobs.create(new_job(retries=3))
            running3, _ = await b.jobs.claim("w1", [], signer())
            policy_refusal = ok_result("w1", running3.claim_id, "rejected",
                                       error={"type": "PolicyViolation", "message": "no"})
            final3, requeued3 = await b.jobs.report(other.id, "w1", running3.claim_id, policy_refusal, None)
            assert not requeued3 and final3.status == "rejected"  # other rejections are final
    engine.run(body)


def test_cancel_approve_reject_transitions(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            pending, _ = await b.jobs.create(new_job(approval=True))
            assert pending.status == "pending_approval" and pending.queued_at is None
            assert await b.jobs.claim("w1", [], signer()) is None  # not claimable before approval
            assert await b.jobs.count_awaiting_approval([], None, 10) == 1
            assert await b.jobs.count_awaiting_approval([], frozenset({"readonly"}), 10) == 0
            assert await b.jobs.count_awaiting_approval([], None, 0) == 0
            engine.clock.now += 5
            approved = await b.jobs.approve(pending.id)
            assert approved.status == "queued" and approved.queued_at == engine.clock.now
            with pytest.raises(InvalidTransition) as twice:
                await b.jobs.approve(pending.id)
            assert twice.value.code == "not_pending_approval"
            cancelled = await b.jobs.cancel(pending.id)
            assert cancelled.status == "cancelled" and cancelled.finished_at == engine.clock.now
            running_job, _ = await b.jobs.create(new_job())
            await b.jobs.claim("w1", [], signer())
            with pytest.raises(InvalidTransition) as busy:
                await b.jobs.cancel(running_job.id)
            assert busy.value.code == "not_cancellable" and busy.value.details["status"] == "running"
            with pytest.raises(JobNotFound) as missing:
                await b.jobs.cancel("j_missing")
            assert isinstance(missing.value, DomainError) and missing.value.code == "not_found"
            refused, _ = await b.jobs.create(new_job(approval=True))
            rejected = await b.jobs.reject(refused.id, "not today")
            assert rejected.status == "rejected" and rejected.result == {
                "status": "rejected", "error": {"type": "rejected_by_operator", "message": "not today"}}
            assert rejected == await b.jobs.get(refused.id)
            with pytest.raises(InvalidTransition) as again:
                await b.jobs.reject(refused.id, "twice")
            assert again.value.code == "not_rejectable"
    engine.run(body)


def test_list_pages_newest_first_and_counts(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            ids = [(await b.jobs.create(new_job()))[0].id for _ in range(5)]
            await b.jobs.create(new_job(owner="bob", policy="readonly"))
            page1 = await b.jobs.list("alice", 2)
            page2 = await b.jobs.list("alice", 2, before_seq=page1[-1].seq)
            page3 = await b.jobs.list("alice", 2, before_seq=page2[-1].seq)
            assert [j.id for j in page1 + page2 + page3] == ids[::-1]
            assert len(await b.jobs.list(None, 100)) == 6
            assert [j.owner for j in await b.jobs.list(None, 100, policy="readonly")] == ["bob"]
            assert await b.jobs.list(None, 100, status="running") == []
            assert (await b.jobs.last("alice")).id == ids[-1]
            assert await b.jobs.counts() == {"queued": 6}
            first = await b.jobs.get(ids[0])
            third = await b.jobs.get(ids[2])
            assert await b.jobs.queue_position(first) == 1 and await b.jobs.queue_position(third) == 3
            assert await b.jobs.ping() is True and await b.ping() is True
    engine.run(body)


def test_report_returns_what_a_fresh_read_returns(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            job, _ = await b.jobs.create(new_job())
            running, _env = await b.jobs.claim("w1", [], signer(), claimed_by="t")
            done, _ = await b.jobs.report(job.id, "w1", running.claim_id,
                                          ok_result("w1", running.claim_id, value=[1, "a"]), "t")
            assert done == await b.jobs.get(job.id)
    engine.run(body)


def test_has_claimable_looks_at_labels_and_policies(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            assert not await b.jobs.has_claimable([])
            await b.jobs.create(new_job(labels=["gpu"]))
            assert not await b.jobs.has_claimable([]) and await b.jobs.has_claimable(["gpu", "x"])
            assert not await b.jobs.has_claimable(["gpu"], frozenset({"readonly"}))
            assert await b.jobs.has_claimable(["gpu"], frozenset({"readonly", "scene-edit"}))
            await b.jobs.create(new_job())
            assert await b.jobs.has_claimable([])
    engine.run(body)


def test_workers_are_seen_and_bound_to_one_live_credential(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            keys = KeyRing(engine.keys_dir)
            keys.load(create=False)
            tokens = b.token_store(keys, "kitgate", "kitgate-api")

            async def live(credential: str) -> bool:  # what the security layer sets (SQLite's own rule)
                kind, _, ident = credential.partition(":")
                record = await tokens.get(ident) if kind == "token" else None
                return record is not None and record.revoked_at is None

            b.jobs.credential_live = live
            _, first = await tokens.issue("w-owner", ["worker"], ttl_s=3600)
            _, second = await tokens.issue("other", ["worker"], ttl_s=3600)
            assert await b.jobs.bind_worker("w1", f"token:{first.jti}") is None
            assert await b.jobs.bind_worker("w1", f"token:{first.jti}") is None
            with pytest.raises(WorkerIdTaken):
                await b.jobs.bind_worker("w1", f"token:{second.jti}")
            assert await b.jobs.worker_credential("w1") == f"token:{first.jti}"
            assert await tokens.revoke(first.jti)
            assert await b.jobs.bind_worker("w1", f"token:{second.jti}") == f"token:{first.jti}"  # taken over
            assert await b.jobs.release_worker("w1") == f"token:{second.jti}"
            assert await b.jobs.worker_credential("w1") is None
            with pytest.raises(WorkerNotFound):
                await b.jobs.release_worker("never-seen")
            assert await b.jobs.heartbeat("w1", None, None, "stage.usd", "idle") is False
            assert await b.jobs.worker_stage("w1") == "stage.usd"
            assert [w["id"] for w in await b.jobs.live_workers(10.0)] == ["w1"]
            await b.jobs.heartbeat("w1", None, None, None, "stopped")
            assert await b.jobs.live_workers(10.0) == []
            engine.clock.now += 60
            await b.jobs.heartbeat("w2", None, None, None, "idle")
            assert [w["id"] for w in await b.jobs.live_workers(10.0)] == ["w2"]
    engine.run(body)


def test_pictures_go_with_their_job_when_it_is_purged(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            old, _ = await b.jobs.create(new_job())
            keep, _ = await b.jobs.create(new_job())
            png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
            await b.images.put(old.id, png, 4, 3, hashlib.sha256(png).hexdigest())
            stored = await b.images.get(old.id)
            assert stored is not None and stored.png == png and (stored.width, stored.height) == (4, 3)
            await b.images.put(old.id, png[:20], 2, 2, "x")  # replaced, not duplicated
            assert (await b.images.get(old.id)).png == png[:20]
            await b.jobs.cancel(old.id)
            engine.clock.now += 100
            await b.jobs.cancel(keep.id)
            assert await b.jobs.purge_finished(engine.clock.now - 50, 10) == 1
            assert await b.jobs.get(old.id) is None and await b.images.get(old.id) is None
            assert await b.jobs.get(keep.id) is not None
    engine.run(body)


def test_tokens_and_apikeys_issue_verify_revoke(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica("a") as a, engine.replica("b") as b:
            keys = KeyRing(engine.keys_dir)
            keys.load(create=False)
            on_a, on_b = a.token_store(keys, "kitgate", "kitgate-api"), b.token_store(keys, "kitgate", "kitgate-api")
            assert not await on_a.has_admin()
            token, record = await on_a.issue("ops", ["admin", "jobs:read"], ttl_s=600, policies=["readonly"])
            principal, seen = await on_b.verify(token)  # minted on one replica, accepted by the other
            assert seen == record and principal.sub == "ops" and principal.policies == frozenset({"readonly"})
            assert await on_b.has_admin() and [t.jti for t in await on_b.list()] == [record.jti]
            with pytest.raises(ValueError, match="unknown scope"):
                await on_a.issue("ops", ["root"], ttl_s=600)
            assert await on_b.revoke(record.jti) and not await on_b.revoke(record.jti)
            with pytest.raises(AuthFailure) as revoked:
                await on_a.verify(token)
            assert revoked.value.reason == "revoked"
            keys_a, keys_b = a.apikey_store(), b.apikey_store()
            key, key_record = await keys_a.issue("ci", ["jobs:submit"], cidrs=["10.0.0.0/8"])
            principal, seen_key = await keys_b.verify(key)
            assert seen_key == key_record and principal.kind == "apikey" and seen_key.cidrs == ["10.0.0.0/8"]
            with pytest.raises(AuthFailure) as wrong:
                await keys_b.verify(key[:-4] + "AAAA")
            assert wrong.value.reason == "apikey_unknown"
            assert await keys_a.revoke(key_record.id)
            assert (await keys_b.get(key_record.id)).revoked_at is not None
            assert [k.id for k in await keys_b.list()] == [key_record.id]
    engine.run(body)


def test_nested_units_are_one_transaction_and_after_commit_waits_for_it(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            ran: list[str] = []
            with pytest.raises(RuntimeError):
                async with b.unit():
                    await b.jobs.create(new_job(code="first"))
                    async with b.unit():  # joins
                        await b.jobs.create(new_job(code="inner"))
                        b.after_commit(lambda: ran.append("rolled back"))
                    raise RuntimeError("the audit append failed")
            assert await b.jobs.list(None, 10) == [] and ran == []  # both jobs went; the hook never ran
            async with b.unit():
                job, _ = await b.jobs.create(new_job(code="second"))
                async with b.unit():
                    b.after_commit(lambda: ran.append("committed"))
                assert ran == []  # not before the outer COMMIT
            assert ran == ["committed"] and await b.jobs.get(job.id) is not None
            b.after_commit(lambda: ran.append("no unit: at once"))
            assert ran[-1] == "no unit: at once"
    engine.run(body)


def test_a_job_and_its_audit_record_commit_together(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            with pytest.raises(RuntimeError):
                async with b.unit():
                    doomed, _ = await b.jobs.create(new_job())
                    await b.audit.record("job_submitted", actor="alice", job_id=doomed.id)
                    raise RuntimeError("crash before commit")
            assert await b.jobs.list(None, 10) == [] and await b.audit.for_job(doomed.id) == []
            async with b.unit():
                job, _ = await b.jobs.create(new_job())
                await b.audit.record("job_submitted", actor="alice", job_id=job.id)
            assert [r["event"] for r in await b.audit.for_job(job.id)] == ["job_submitted"]
            assert (await b.audit.verify_chain()).ok
    engine.run(body)


def test_audit_queries_filter_alike_on_both_engines(engine: Engine) -> None:
    """event, actor, request_id, since_seq, since_ts and limit select the same records on SQLite and PostgreSQL
    (one query builder, two placeholders); values are bound, never joined into the SQL."""
    async def body() -> None:
        async with engine.replica() as b:
            for i, (event, actor) in enumerate([("job_submitted", "alice"), ("job_claimed", "w1"),
                                                ("job_submitted", "bob"), ("job_submitted", "alice' OR '1'='1")]):
                async with b.unit():
                    await b.audit.record(event, actor=actor, ip=None, request_id=f"r{i}", n=i)
            flush = getattr(b.audit, "flush", None)  # PostgreSQL chains after the commit; SQLite at once
            if flush is not None:
                await flush()
            everything = await b.audit.query()
            assert [r["data"]["n"] for r in everything] == [0, 1, 2, 3]
            assert [r["actor"] for r in await b.audit.query(event="job_submitted")] == [
                "alice", "bob", "alice' OR '1'='1"]
            assert [r["data"]["n"] for r in await b.audit.query(actor="alice")] == [0]
            assert [r["data"]["n"] for r in await b.audit.query(actor="alice' OR '1'='1")] == [3]  # bound, literal
            assert [r["data"]["n"] for r in await b.audit.query(request_id="r1")] == [1]
            assert [r["data"]["n"] for r in await b.audit.query(since_seq=everything[1]["seq"])] == [2, 3]
            assert [r["data"]["n"] for r in await b.audit.query(since_ts=everything[2]["ts"])] == [2, 3]
            assert [r["data"]["n"] for r in await b.audit.query(event="job_submitted", limit=2)] == [0, 2]
            assert len(await b.audit.query(limit=0)) == 1  # clamped to 1..1000
    engine.run(body)


def test_schema_status_is_this_codes(engine: Engine) -> None:
    async def body() -> None:
        async with engine.replica() as b:
            status = await b.schema_status()
            assert status.engine == engine.kind and status.ok and status.current == status.expected > 0
    engine.run(body)
