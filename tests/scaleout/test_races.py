"""Races between two replicas on one PostgreSQL schema, over real HTTP: nothing lost, nothing run twice.

Why: with one SQLite controller its single write lock made every read-then-write atomic; two replicas on
PostgreSQL have no such lock, and before the SQL-level fixes (SKIP LOCKED claims, locked reports,
conditional cancels, ON CONFLICT creates, a sequenced audit chain) these were the measured failures: a
double report succeeded, cancel raced claim, a duplicate idempotency key answered 500, the audit chain forked.
Each test drives the two replicas concurrently (through the round-robin proxy, or each replica directly
where the test needs "on A" and "on B") and counts outcomes; no timing thresholds.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from .conftest import TRIVIAL, Cluster, Lean, all_jobs

N_JOBS = 2000
N_CLAIMERS = 8
N_SUBMITTERS = 4
CANCEL_ROUNDS = 500
DOUBLE_REPORT_ROUNDS = 50


@pytest.fixture(scope="module")
def tokens(cluster: Cluster) -> dict[str, str]:
    return {"worker": cluster.mint("worker"), "admin": cluster.mint("admin")}


def _operator(cluster: Cluster) -> str:
    """A fresh submitter identity per test, so its own job list is exactly this test's jobs."""
    return cluster.mint("jobs:submit", "jobs:read")


def _replica_urls(cluster: Cluster) -> tuple[str, str]:
    """(A, B): two different replicas (the same one when the store is SQLite)."""
    return cluster.replicas[0].url, cluster.replicas[-1].url


def test_8_claimers_x_2000_jobs_each_job_runs_exactly_once(cluster: Cluster, tokens: dict[str, str]) -> None:
    op = _operator(cluster)
    submitted: list[str] = []
    claims: list[tuple[str, str, str]] = []  # (job_id, claim_id, claimer)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    reported = [0]
    done = threading.Event()
    errors: list[str] = []

    def submitter(k: int) -> None:
        c = Lean(cluster.url, op)
        try:
            for _ in range(k, N_JOBS, N_SUBMITTERS):
                status, body = c.call("POST", "/v1/jobs", {"code": TRIVIAL, "labels": ["race-claim"]})
                with lock:
                    statuses[f"submit {status}"] += 1
                    if status == 202:
                        submitted.append(body["id"])
                    else:
                        errors.append(f"submit {status} {str(body)[:200]}")
        finally:
            c.close()

    def claimer(i: int) -> None:
        c = Lean(cluster.url, tokens["worker"])
        worker_id = f"claimer-{i}"
        try:
            while not done.is_set():
                status, claim = c.call("POST", "/v1/workers/claim?wait_s=0.5",
                                       {"worker_id": worker_id, "labels": ["race-claim"]})
                with lock:
                    statuses[f"claim {status}"] += 1
                if status == 204:
                    continue
                if status != 200:
                    errors.append(f"claim {status} {str(claim)[:200]}")
                    continue
                with lock:
                    claims.append((claim["job_id"], claim["claim_id"], worker_id))
                rs, body = c.call("POST", f"/v1/jobs/{claim['job_id']}/result",
                                  {"status": "succeeded", "worker_id": worker_id, "claim_id": claim["claim_id"]})
                with lock:
                    statuses[f"report {rs}"] += 1
                    if rs != 200:
                        errors.append(f"report {rs} {str(body)[:200]}")
                    reported[0] += 1
                    if reported[0] >= N_JOBS:
                        done.set()
        finally:
            c.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(N_CLAIMERS)]
    threads += [threading.Thread(target=submitter, args=(k,)) for k in range(N_SUBMITTERS)]
    for t in threads:
        t.start()
    done.wait(300)
    done.set()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - t0
    print(f"\n{N_JOBS} jobs, {N_CLAIMERS} claimers, {len(cluster.replicas)} replica(s): {elapsed:.1f} s, "
          f"{N_JOBS / elapsed:.0f} jobs/s; {dict(statuses)}")

    assert errors == [], (errors[:10], cluster.logs())
    assert len(submitted) == N_JOBS
    per_job = Counter(job_id for job_id, _, _ in claims)
    assert set(per_job) == set(submitted), "every submitted job was claimed"
    assert max(per_job.values()) == 1, [j for j, n in per_job.items() if n > 1][:10]
    assert len({claim_id for _, claim_id, _ in claims}) == len(claims) == N_JOBS
    assert len({who for _, _, who in claims}) > 1, "the claimers really raced"
    with cluster.client(op) as client:
        jobs = all_jobs(client)
    assert len(jobs) == N_JOBS
    assert Counter(j["status"] for j in jobs) == {"succeeded": N_JOBS}
    assert Counter(j["attempts"] for j in jobs) == {1: N_JOBS}


def test_one_idempotency_key_sent_200_times_to_both_replicas_makes_one_job(cluster: Cluster) -> None:
    op = _operator(cluster)
    a, b = _replica_urls(cluster)
    body = {"code": TRIVIAL, "idempotency_key": "same-key-1", "labels": ["idem"]}
    start = threading.Barrier(16)

    def send(i: int) -> tuple[int, Any]:
        c = Lean(a if i % 2 else b, op)  # a fresh connection per call, alternating replicas
        try:
            if i < 16:
                start.wait(30)  # the first 16 leave together
            return c.call("POST", "/v1/jobs", body)
        finally:
            c.close()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, range(200)))
    codes = Counter(status for status, _ in answers)
    print(f"\nidempotent submits: {dict(codes)}")
    assert set(codes) <= {200, 202}, (codes, [b for s, b in answers if s not in (200, 202)][:3], cluster.logs())
    assert len({b["id"] for _, b in answers}) == 1
    with cluster.client(op) as client:
        jobs = all_jobs(client)
    assert len(jobs) == 1 and jobs[0]["idempotency_key"] == "same-key-1"


def test_cancel_against_claim_500_times_never_both_win(cluster: Cluster, tokens: dict[str, str]) -> None:
    op = _operator(cluster)
    a, b = _replica_urls(cluster)
    submit = Lean(a, op)
    cancellers = [Lean(a, op), Lean(b, op)]
    claimers = [Lean(b, tokens["worker"]), Lean(a, tokens["worker"])]
    barrier = threading.Barrier(2)
    outcome: dict[str, tuple[int, Any]] = {}
    wins: Counter[str] = Counter()
    both: list[str] = []
    claimed: list[tuple[str, str]] = []

    def cancel(side: int, job_id: str) -> None:
        barrier.wait(30)
        outcome["cancel"] = cancellers[side].call("POST", f"/v1/jobs/{job_id}/cancel")

    def claim(side: int) -> None:
        barrier.wait(30)
        outcome["claim"] = claimers[side].call("POST", "/v1/workers/claim",
                                               {"worker_id": "canceller-rival", "labels": ["race-cancel"]})

    try:
        for i in range(CANCEL_ROUNDS):
            status, job = submit.call("POST", "/v1/jobs", {"code": TRIVIAL, "labels": ["race-cancel"]})
            assert status == 202, job
            side = i % 2  # cancel on A and claim on B, then the other way round
            ts = [threading.Thread(target=cancel, args=(side, job["id"])), threading.Thread(target=claim, args=(side,))]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            (cs, cbody), (ks, kbody) = outcome["cancel"], outcome["claim"]
            assert cs in (200, 409) and ks in (200, 204), (cs, cbody, ks, kbody)
            cancelled, got = cs == 200, ks == 200
            if got:
                assert kbody["job_id"] == job["id"], kbody
                claimed.append((job["id"], kbody["claim_id"]))
            if cancelled and got:
                both.append(job["id"])
            wins["cancel" if cancelled else "claim" if got else "neither"] += 1
            if got:  # finish it, so the next round's claim can only see the next job
                rs, rbody = claimers[side].call("POST", f"/v1/jobs/{job['id']}/result",
                                                {"status": "succeeded", "worker_id": "canceller-rival",
                                                 "claim_id": kbody["claim_id"]})
                assert rs in (200, 409), rbody
    finally:
        for c in (submit, *cancellers, *claimers):
            c.close()
    print(f"\ncancel vs claim, {CANCEL_ROUNDS} rounds: {dict(wins)}")
    assert both == [], f"{len(both)} jobs were both cancelled and claimed: {both[:5]}"
    assert wins["neither"] == 0, wins
    with cluster.client(op) as client:
        final = Counter(j["status"] for j in all_jobs(client))
    assert final == +Counter({"cancelled": wins["cancel"], "succeeded": wins["claim"]}), final


def test_a_duplicate_report_gets_409_even_when_both_replicas_race(cluster: Cluster, tokens: dict[str, str]) -> None:
    op = _operator(cluster)
    a, b = _replica_urls(cluster)
    sub = Lean(cluster.url, op)
    w = [Lean(a, tokens["worker"]), Lean(b, tokens["worker"])]
    barrier = threading.Barrier(2)
    codes: Counter[tuple[int, int]] = Counter()
    try:
        # sequential: the second report of a stored result, through the other replica
        status, job = sub.call("POST", "/v1/jobs", {"code": TRIVIAL, "labels": ["dup-report"]})
        assert status == 202
        _, claim = w[0].call("POST", "/v1/workers/claim", {"worker_id": "dup-reporter", "labels": ["dup-report"]})
        result = {"status": "succeeded", "worker_id": "dup-reporter", "claim_id": claim["claim_id"]}
        first = w[0].call("POST", f"/v1/jobs/{claim['job_id']}/result", result)
        second = w[1].call("POST", f"/v1/jobs/{claim['job_id']}/result", result)
        assert first[0] == 200 and second[0] == 409, (first, second)

        # concurrent: the same report sent to both replicas at once
        for _ in range(DOUBLE_REPORT_ROUNDS):
            status, job = sub.call("POST", "/v1/jobs", {"code": TRIVIAL, "labels": ["dup-report"]})
            assert status == 202
            ks, claim = w[0].call("POST", "/v1/workers/claim", {"worker_id": "dup-reporter",
                                                                "labels": ["dup-report"]})
            assert ks == 200 and claim["job_id"] == job["id"], claim
            body = {"status": "succeeded", "worker_id": "dup-reporter", "claim_id": claim["claim_id"]}
            got: list[int] = [0, 0]

            def report(side: int, body: dict[str, Any] = body, job_id: str = job["id"], got: list[int] = got) -> None:
                barrier.wait(30)
                got[side] = w[side].call("POST", f"/v1/jobs/{job_id}/result", body)[0]

            ts = [threading.Thread(target=report, args=(s,)) for s in (0, 1)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            codes[tuple(sorted(got))] += 1  # type: ignore[index]
    finally:
        for c in (sub, *w):
            c.close()
    print(f"\nconcurrent double reports: {dict(codes)}")
    assert codes == {(200, 409): DOUBLE_REPORT_ROUNDS}, codes
    with cluster.client(op) as client:
        jobs = all_jobs(client)
    assert Counter((j["status"], j["attempts"]) for j in jobs) == {("succeeded", 1): DOUBLE_REPORT_ROUNDS + 1}


def test_a_job_submitted_on_a_reaches_a_worker_long_polling_b(cluster: Cluster, tokens: dict[str, str]) -> None:
    op = _operator(cluster)
    a, b = _replica_urls(cluster)
    poller = Lean(b, tokens["worker"])
    sub = Lean(a, op)
    box: dict[str, Any] = {}

    def poll() -> None:
        box["claim"] = poller.call("POST", "/v1/workers/claim?wait_s=20", {"worker_id": "far-poller",
                                                                           "labels": ["wake"]})
        box["t"] = time.perf_counter()

    try:
        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)  # the claim is waiting on B now
        t0 = time.perf_counter()
        status, job = sub.call("POST", "/v1/jobs", {"code": TRIVIAL, "labels": ["wake"]})
        t.join(60)
        assert status == 202
        ks, claim = box["claim"]
        assert ks == 200 and claim["job_id"] == job["id"], box
        print(f"\nsubmit on A -> claim returns on B: {(box['t'] - t0) * 1000:.1f} ms (wait_s was 20 s)")
        poller.call("POST", f"/v1/jobs/{job['id']}/result",
                    {"status": "succeeded", "worker_id": "far-poller", "claim_id": claim["claim_id"]})

        # a wait_s caller on A learns of a result reported through B
        def worker_on_b() -> None:
            ks, claim = poller.call("POST", "/v1/workers/claim?wait_s=20", {"worker_id": "far-poller",
                                                                            "labels": ["wake2"]})
            assert ks == 200
            time.sleep(0.3)  # the submitter on A is waiting now
            box["reported"] = time.perf_counter()
            poller.call("POST", f"/v1/jobs/{claim['job_id']}/result",
                        {"status": "succeeded", "worker_id": "far-poller", "claim_id": claim["claim_id"]})

        t = threading.Thread(target=worker_on_b)
        t.start()
        status, job = sub.call("POST", "/v1/jobs", {"code": TRIVIAL, "labels": ["wake2"], "wait_s": 30})
        answered = time.perf_counter()
        t.join(60)
        assert status == 200 and job["status"] == "succeeded", job
        print(f"report on B -> wait_s submit on A answers: {(answered - box['reported']) * 1000:.1f} ms "
              "(wait_s was 30 s)")
    finally:
        poller.close()
        sub.close()


def test_the_audit_chain_verifies_after_the_races(cluster: Cluster) -> None:
    """Last in the module: the chain every replica wrote to during the tests above is one unforked chain."""
    proc = cluster.audit_verify()
    print(f"\naudit verify: {proc.stdout.strip()[-300:]}")
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
