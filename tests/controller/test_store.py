"""The SQLite job store on real files: lifecycle, atomic claims, idempotency, lost jobs, retries."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kitgate.controller.db import Database
from kitgate.controller.domain_errors import (
    AlreadyReported,
    ClaimLost,
    DomainError,
    InvalidTransition,
    JobNotFound,
    NotClaimed,
)
from kitgate.controller.store import JobStore, NewJob


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def new_job(owner: str = "alice", labels: list[str] | None = None, key: str | None = None, code: str = "x = 1",
            approval: bool = False, retries: int = 1) -> NewJob:
    return NewJob(owner=owner, policy="scene-edit", policy_digest="sha256:abc", code=code, code_sha256="c" * 64,
                  labels=labels or [], timeout_s=5.0, limits={"timeout_s": 5}, max_retries=retries,
                  requires_approval=approval, idempotency_key=key)


def signer(calls: list[tuple[str, str, int]] | None = None):
    def sign(job, worker, attempt):
        if calls is not None:
            calls.append((job.id, worker, attempt))
        return f"env.{job.id}.{attempt}", f"claim-{job.id}-{attempt}"
    return sign


@pytest.fixture()
def store(tmp_path: Path) -> JobStore:
    s = JobStore(Database(tmp_path / "kitgate.sqlite3"), clock=Clock())
    s.migrate()
    return s


def ok_result(worker: str, claim: str, status: str = "succeeded", **extra) -> dict:
    return {"status": status, "worker_id": worker, "claim_id": claim, "stdout": "hi", "timings": {}, **extra}


def test_lifecycle_records_timings(store: JobStore) -> None:
    job, created = store.create(new_job())
    assert created and job.status == "queued" and job.queued_at == 1000.0
    store.clock.now = 1001.0
    claimed = store.claim("w1", [], signer(), claimed_by="worker-token")
    assert claimed is not None
    running, envelope = claimed
    assert running.status == "running" and running.attempts == 1 and envelope == f"env.{job.id}.1"
    store.clock.now = 1003.0
    done, requeued = store.report(job.id, "w1", running.claim_id, ok_result("w1", running.claim_id), "worker-token")
    assert not requeued and done.status == "succeeded" and done.finished_at == 1003.0
    timings = done.result["timings"]
    assert (timings["queued_at"], timings["claimed_at"], timings["finished_at"]) == (1000.0, 1001.0, 1003.0)
    assert done.result["claim_id"] is None  # the claim secret is not handed back to readers
    with pytest.raises(AlreadyReported) as again:
        store.report(job.id, "w1", running.claim_id, ok_result("w1", running.claim_id), "worker-token")
    assert again.value.code == "already_reported"


def test_report_from_another_worker_or_token_is_refused(store: JobStore) -> None:
    job, _ = store.create(new_job())
    running, _ = store.claim("w1", [], signer(), claimed_by="tok-a")
    for worker, claim, reporter in [("w2", running.claim_id, "tok-a"), ("w1", "forged", "tok-a"),
                                    ("w1", running.claim_id, "tok-b")]:
        with pytest.raises(NotClaimed) as err:
            store.report(job.id, worker, claim, ok_result(worker, claim), reporter)
        assert err.value.code == "not_claimed"
    assert store.get(job.id).status == "running"
    with pytest.raises(JobNotFound) as missing:
        store.report("j_nope", "w1", "c", ok_result("w1", "c"), "tok-a")
    assert missing.value.code == "not_found" and missing.value.job_id == "j_nope"


def test_claim_is_fifo_and_respects_labels(store: JobStore) -> None:
    gpu, _ = store.create(new_job(labels=["gpu"]))
    store.clock.now += 1
    plain, _ = store.create(new_job())
    store.clock.now += 1
    both, _ = store.create(new_job(labels=["gpu", "isaac"]))
    first, _ = store.claim("cpu-worker", [], signer())
    assert first.id == plain.id  # the gpu job is older but this worker lacks the label
    assert store.claim("cpu-worker", [], signer()) is None
    second, _ = store.claim("gpu-worker", ["gpu"], signer())
    assert second.id == gpu.id
    assert store.claim("gpu-worker", ["gpu"], signer()) is None  # needs isaac as well
    third, _ = store.claim("big", ["isaac", "gpu", "extra"], signer())
    assert third.id == both.id


def test_idempotency_key_is_per_owner(store: JobStore) -> None:
    a, created_a = store.create(new_job(key="k1"))
    again, created_again = store.create(new_job(key="k1"))
    other, created_other = store.create(new_job(owner="bob", key="k1"))
    assert created_a and not created_again and again.id == a.id
    assert created_other and other.id != a.id


def test_concurrent_claims_never_double_assign(tmp_path: Path) -> None:
    db_path = tmp_path / "kitgate.sqlite3"
    setup = JobStore(Database(db_path))
    setup.migrate()
    ids = {setup.create(new_job())[0].id for _ in range(200)}
    got: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        store = JobStore(Database(db_path))  # separate connection and lock: contention goes through SQLite
        while True:
            claimed = store.claim(f"w{n}", [], signer())
            if claimed is None:
                return
            with lock:
                got.append(claimed[0].id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(ids)  # every job exactly once
    assert len(set(got)) == len(got)


def test_stale_running_jobs_become_lost_never_requeued(store: JobStore) -> None:
    job, _ = store.create(new_job(retries=5))
    running, _ = store.claim("w1", [], signer(), claimed_by="tok")
    store.clock.now += 10
    assert store.heartbeat("w1", job.id, running.claim_id, None, "running", reporter="other") is True
    assert store.heartbeat("w1", job.id, running.claim_id, None, "running", reporter="tok") is False
    assert store.get(job.id).started_at == store.clock.now
    store.clock.now += 20
    assert store.mark_lost(30.0) == []  # heartbeat 20 s ago: still alive
    store.clock.now += 15
    lost = store.mark_lost(30.0)
    assert [j.id for j in lost] == [job.id] and lost[0].status == "lost"
    assert store.claim("w2", [], signer()) is None  # not re-queued
    assert store.heartbeat("w1", job.id, running.claim_id, None, "running", reporter="tok") is True  # abandon
    with pytest.raises(ClaimLost) as late:
        store.report(job.id, "w1", running.claim_id, ok_result("w1", running.claim_id), "tok")
    assert late.value.code == "claim_lost"


def test_restart_grace_period(tmp_path: Path) -> None:
    clock = Clock()
    store = JobStore(Database(tmp_path / "db.sqlite3"), clock=clock)
    store.migrate()
    job, _ = store.create(new_job())
    store.claim("w1", [], signer())
    assert store.mark_lost(30.0) == []  # the sweeper ran: a controller was alive at the claim
    clock.now += 100  # controller was down for 100 s
    reopened = JobStore(Database(tmp_path / "db.sqlite3"), clock=clock)
    assert reopened.recover_after_restart() == 100.0  # the outage is credited, nothing more
    assert reopened.mark_lost(30.0) == []  # the worker gets the rest of its window to report
    clock.now += 31
    assert [j.id for j in reopened.mark_lost(30.0)] == [job.id]


def test_not_started_rejection_is_retried_up_to_max_retries(store: JobStore) -> None:
    job, _ = store.create(new_job(retries=1))
    calls: list = []
    running, _ = store.claim("w1", [], signer(calls))
    refused = ok_result("w1", running.claim_id, "rejected", error={"type": "not_started", "message": "expired"})
    back, requeued = store.report(job.id, "w1", running.claim_id, refused, None)
    assert requeued and back.status == "queued" and back.worker_id is None
    running2, _ = store.claim("w2", [], signer(calls))
    assert running2.id == job.id and running2.attempts == 2
    refused2 = ok_result("w2", running2.claim_id, "rejected", error={"type": "not_started", "message": "expired"})
    final, requeued2 = store.report(job.id, "w2", running2.claim_id, refused2, None)
    assert not requeued2 and final.status == "rejected"  # retries exhausted
    assert [c[2] for c in calls] == [1, 2]


def test_other_rejections_are_final(store: JobStore) -> None:
    job, _ = store.create(new_job(retries=3))
    running, _ = store.claim("w1", [], signer())
    refused = ok_result("w1", running.claim_id, "rejected", error={"type": "PolicyViolation", "message": "no"})
    final, requeued = store.report(job.id, "w1", running.claim_id, refused, None)
    assert not requeued and final.status == "rejected"


def test_cancel_and_approve_transitions(store: JobStore) -> None:
    pending, _ = store.create(new_job(approval=True))
    assert pending.status == "pending_approval"
    assert store.claim("w1", [], signer()) is None  # not claimable before approval
    approved = store.approve(pending.id)
    assert approved.status == "queued"
    with pytest.raises(InvalidTransition) as twice:
        store.approve(pending.id)
    assert twice.value.code == "not_pending_approval"
    cancelled = store.cancel(pending.id)
    assert cancelled.status == "cancelled"
    running_job, _ = store.create(new_job())
    store.claim("w1", [], signer())
    with pytest.raises(InvalidTransition) as busy:
        store.cancel(running_job.id)
    assert busy.value.code == "not_cancellable" and busy.value.details["status"] == "running"
    with pytest.raises(JobNotFound) as missing:
        store.cancel("j_missing")
    assert isinstance(missing.value, DomainError) and missing.value.code == "not_found"


def test_list_pages_newest_first(store: JobStore) -> None:
    ids = [store.create(new_job())[0].id for _ in range(5)]
    store.create(new_job(owner="bob"))
    page1 = store.list("alice", 2)
    page2 = store.list("alice", 2, before_seq=page1[-1].seq)
    page3 = store.list("alice", 2, before_seq=page2[-1].seq)
    assert [j.id for j in page1 + page2 + page3] == ids[::-1]
    assert len(store.list(None, 100)) == 6
    assert store.last("alice").id == ids[-1]
    assert store.counts() == {"queued": 6}


def test_report_returns_what_a_fresh_read_returns(store: JobStore) -> None:
    """report() builds its answer without reading the row back: it must equal the stored row."""
    job, _ = store.create(new_job())
    running, _env = store.claim("w1", [], signer(), claimed_by="t")
    done, _ = store.report(job.id, "w1", running.claim_id, ok_result("w1", running.claim_id, value=[1, "a"]), "t")
    assert done == store.get(job.id)


def test_has_claimable_looks_at_labels_without_writing(store: JobStore) -> None:
    assert not store.has_claimable([])
    store.create(new_job(labels=["gpu"]))
    assert not store.has_claimable([]) and store.has_claimable(["gpu", "x"])
    store.create(new_job())
    assert store.has_claimable([])


def test_nested_writes_are_one_transaction_and_after_commit_waits_for_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "kitgate.sqlite3")
    store = JobStore(db)
    store.migrate()
    ran: list[str] = []
    with pytest.raises(RuntimeError), db.write():
        store.create(new_job(code="first"))
        db.after_commit(lambda: ran.append("rolled back"))
        raise RuntimeError("the audit append failed")
    assert store.list(None, 10) == [] and ran == []  # the job went with it; the hook never ran
    with db.write():
        job, _ = store.create(new_job(code="second"))
        db.after_commit(lambda: ran.append("committed"))
        assert ran == []  # not before the outer COMMIT
    assert ran == ["committed"] and store.get(job.id) is not None
    db.after_commit(lambda: ran.append("no transaction: at once"))
    assert ran[-1] == "no transaction: at once"


def test_a_job_and_its_audit_record_commit_together(tmp_path: Path) -> None:
    from kitgate.controller.security.audit import AuditLog

    db = Database(tmp_path / "kitgate.sqlite3")
    store = JobStore(db)
    store.migrate()
    audit = AuditLog(db)
    audit.record("warm", actor="t")
    anchor = audit.read_anchor()
    with pytest.raises(RuntimeError), db.write():
        store.create(new_job())
        audit.record("job_submitted", actor="alice")
        raise RuntimeError("crash before commit")
    assert store.list(None, 10) == [] and audit.head()["seq"] == 1
    assert audit.read_anchor() == anchor  # the anchor never points past the committed chain
    with db.write():
        job, _ = store.create(new_job())
        audit.record("job_submitted", actor="alice", job_id=job.id)
    assert audit.head()["seq"] == 2 and audit.read_anchor() == (2, audit.head()["hash"])
    assert audit.verify_chain().ok
