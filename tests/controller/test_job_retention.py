"""Job retention on a real SQLite file: the sweeper deletes terminal jobs that finished before the cutoff,
with their pictures, in batches; never a job that can still change, never an audit record; freed pages are
reused, so a steady create/finish/delete cycle stops growing the file (page counts, not timings).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from harness import ControllerProcess, run_kitgate

from kitgate.controller import store as store_module
from kitgate.controller.db import Database
from kitgate.controller.images import ImageStore
from kitgate.controller.security.audit import AuditLog
from kitgate.controller.store import JobStore, NewJob

DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def new_job(key: str | None = None, approval: bool = False, code: str = "x = 1") -> NewJob:
    return NewJob(owner="alice", policy="scene-edit", policy_digest="sha256:abc", code=code, code_sha256="c" * 64,
                  labels=[], timeout_s=5.0, limits={"timeout_s": 5}, max_retries=0, requires_approval=approval,
                  idempotency_key=key)


def sign(job, worker, attempt):
    return f"env.{job.id}.{attempt}", f"claim-{job.id}-{attempt}"


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "kitgate.sqlite3")


@pytest.fixture()
def store(db: Database) -> JobStore:
    s = JobStore(db, clock=Clock())
    s.migrate()
    return s


def _finish(store: JobStore, status: str = "succeeded") -> str:
    store.create(new_job())
    job, _ = store.claim("w1", [], sign, claimed_by="tok")
    store.report(job.id, "w1", job.claim_id, {"status": status, "worker_id": "w1", "claim_id": job.claim_id,
                                               "stdout": "", "timings": {}}, "tok")
    return job.id


def _pages(db: Database) -> tuple[int, int]:
    conn = db.connection()
    return conn.execute("PRAGMA page_count").fetchone()[0], conn.execute("PRAGMA freelist_count").fetchone()[0]


def test_only_old_terminal_jobs_go_with_their_pictures_and_the_audit_chain_stays(db: Database,
                                                                                 store: JobStore) -> None:
    images = ImageStore(db, clock=store.clock)
    images.migrate()
    audit = AuditLog(db)
    old_done = [_finish(store, s) for s in ("succeeded", "failed", "timed_out")]
    old_cancelled = store.cancel(store.create(new_job())[0].id).id
    old_rejected = store.reject(store.create(new_job(approval=True))[0].id, "no").id
    store.create(new_job())
    running, _ = store.claim("w2", [], sign, claimed_by="tok")  # still running, and old
    old_queued = store.create(new_job(approval=True))[0].id  # waiting for approval, and old
    store.clock.now += 1
    store.create(new_job())
    lost = store.mark_lost(0.5)  # the running job stopped heartbeating: lost (terminal), and old
    assert [j.id for j in lost] == [running.id]
    store.create(new_job())
    still_running, _ = store.claim("w3", [], sign, claimed_by="tok")
    for job_id in old_done:
        images.put(job_id, b"\x89PNG" + b"\0" * 64, 4, 4, "d" * 64)
        audit.record("job_finished", actor="w1", job_id=job_id)
    audit_before = audit.verify_chain()
    assert audit_before.ok

    store.clock.now += 30 * DAY
    recent = _finish(store)
    images.put(recent, b"\x89PNG" + b"\0" * 64, 4, 4, "e" * 64)
    cutoff = store.clock.now - 10 * DAY

    plan = " ".join(r[-1] for r in db.connection().execute(
        "EXPLAIN QUERY PLAN " + store_module._PURGE_SQL, (cutoff, *sorted(store_module.TERMINAL), 2)))
    assert "jobs_finished" in plan and "TEMP B-TREE" not in plan, plan  # an index range, not a scan and a sort

    assert store.purge_finished(cutoff, limit=2) == 2, "one batch at most `limit` rows"
    assert store.purge_finished(cutoff, limit=100) == 4
    assert store.purge_finished(cutoff, limit=100) == 0
    gone = {*old_done, old_cancelled, old_rejected, running.id}
    assert all(store.get(j) is None for j in gone)
    kept = {j.id: j.status for j in store.list(None, 100)}
    assert kept[old_queued] == "pending_approval" and kept[still_running.id] == "running" and recent in kept
    assert sorted(kept.values()) == ["pending_approval", "queued", "running", "succeeded"]  # old ones can change
    assert [images.get(j) for j in old_done] == [None, None, None] and images.get(recent) is not None
    after = audit.verify_chain()
    assert after.ok and after.records == audit_before.records == 3


def test_a_deleted_jobs_idempotency_key_is_free_again(store: JobStore) -> None:
    first, created = store.create(new_job(key="k1"))
    assert created and store.create(new_job(key="k1")) == (first, False)
    store.cancel(first.id)
    store.clock.now += 2 * DAY
    assert store.purge_finished(store.clock.now - DAY, 100) == 1
    again, created = store.create(new_job(key="k1"))
    assert created and again.id != first.id


def test_steady_create_and_delete_reuses_pages(db: Database, store: JobStore) -> None:
    code = "x = 1\n" + "# padding\n" * 200  # ~2 kB a job, like the soak's rows
    sizes = []
    for _cycle in range(6):
        for _ in range(150):
            store.cancel(store.create(new_job(code=code))[0].id)
        store.clock.now += 2 * DAY
        while store.purge_finished(store.clock.now - DAY, 200):
            pass
        sizes.append(_pages(db))
    assert sizes[0][0] > 50  # the rows span many pages (a ~2 kB row each)
    pages = [p for p, _free in sizes]
    assert all(free > 0 for _p, free in sizes), sizes  # deleted rows' pages are on the freelist...
    assert max(pages[1:]) <= pages[0], sizes  # ...and the next cycle's rows reuse them: no growth


def test_the_sweeper_deletes_old_jobs_of_a_live_controller(controller_factory) -> None:
    # 1e-5 days = 0.86 s: a job cancelled now is deleted by one of the next sweeps (ten a second here)
    ctl: ControllerProcess = controller_factory({"KITGATE_JOB_RETENTION_DAYS": "0.00001",
                                                 "KITGATE_LOST_CHECK_INTERVAL_S": "0.1"}, name="retention")
    with ctl.admin() as admin:
        job = admin.post("/v1/jobs", json={"code": "x = 1", "idempotency_key": "retained-1"}).json()
        assert admin.post(f"/v1/jobs/{job['id']}/cancel").json()["status"] == "cancelled"
        deadline = time.monotonic() + 30
        status = 200
        while status != 404 and time.monotonic() < deadline:
            time.sleep(0.2)
            status = admin.get(f"/v1/jobs/{job['id']}").status_code
        assert status == 404, "the sweeper did not delete the cancelled job"
        again = admin.post("/v1/jobs", json={"code": "x = 1", "idempotency_key": "retained-1"})
        assert again.status_code == 202 and again.json()["id"] != job["id"]
        admin.post(f"/v1/jobs/{again.json()['id']}/cancel")
    ctl.stop()
    verified = run_kitgate(["audit", "verify", "--data-dir", str(ctl.data_dir)], check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_zero_keeps_jobs_forever(controller_factory) -> None:
    ctl: ControllerProcess = controller_factory({"KITGATE_JOB_RETENTION_DAYS": "0",
                                                 "KITGATE_LOST_CHECK_INTERVAL_S": "0.1"}, name="keep")
    with ctl.admin() as admin:
        job = admin.post("/v1/jobs", json={"code": "x = 1"}).json()
        admin.post(f"/v1/jobs/{job['id']}/cancel")
        time.sleep(1.0)  # ten sweeps
        assert admin.get(f"/v1/jobs/{job['id']}").status_code == 200
