"""A replica SIGKILLed mid-run, then restarted: every job ends terminal and no claim runs twice.

Why: replicas are cattle; one dying (OOM, a node lost) must cost at most the jobs that were in flight at
that instant, and only as `lost`, never as a job that silently runs a second time. Four real `kitgate
worker` processes run 500 jobs through the proxy; one replica is SIGKILLed while most are still queued or
running, then restarted on the same port. The workers' connections to it break and land on the other
replica (the proxy skips a refused backend), their heartbeats and reports go there, and the restarted
replica credits no grace to jobs whose workers are alive and reporting elsewhere.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable

import pytest

from .conftest import Cluster, all_jobs, submit_many

N_JOBS = 500
CLAIMED = re.compile(r"claimed job ([A-Za-z0-9_-]+)")
TERMINAL = {"succeeded", "failed", "timed_out", "cancelled", "lost", "rejected", "violation"}


@pytest.fixture(scope="module")
def cluster(cluster_factory: Callable[..., Cluster]) -> Cluster:
    # a short heartbeat timeout: a job whose worker is really gone shows as lost within the test
    return cluster_factory({"KITGATE_HEARTBEAT_TIMEOUT_S": "3", "KITGATE_LOST_CHECK_INTERVAL_S": "0.5"})


def test_sigkill_one_replica_mid_run_loses_at_most_the_jobs_in_flight(cluster: Cluster) -> None:
    op = cluster.mint("jobs:submit", "jobs:read")
    ids = submit_many(cluster.url, op, N_JOBS, ["kill"], "kill")
    wanted = set(ids)
    workers = cluster.start_workers(4, "kill", labels=["kill"], poll_wait_s=2.0, heartbeat_s=0.5,
                                    backoff_max_s=0.5)
    with cluster.client(op) as client:
        # kill once the workers are really at it (claims, runs and reports flowing), with most jobs still to go
        deadline = time.monotonic() + 120
        while True:
            before = Counter(j["status"] for j in all_jobs(client) if j["id"] in wanted)
            if before["succeeded"] >= 10:
                break
            assert time.monotonic() < deadline, ([w.logs()[-1500:] for w in workers], cluster.logs())
            time.sleep(0.1)
        victim = cluster.replicas[0]
        victim.kill()  # SIGKILL: no shutdown hooks
        in_flight = N_JOBS - sum(n for s, n in before.items() if s in TERMINAL)
        time.sleep(1.0)
        victim.start()  # same port, same data dir: the proxy's backend is back

        deadline = time.monotonic() + 180
        while True:
            jobs = {j["id"]: j for j in all_jobs(client) if j["id"] in wanted}
            if all(j["status"] in TERMINAL for j in jobs.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.5)

    final = Counter(j["status"] for j in jobs.values())
    claims = Counter(m for w in workers for m in CLAIMED.findall(w.logs()) if m in wanted)
    print(f"\nbefore the kill: {dict(before)} ({in_flight} in flight); after: {dict(final)}; "
          f"claims seen in worker logs: {sum(claims.values())}")
    assert len(jobs) == N_JOBS
    assert set(final) <= {"succeeded", "lost"}, (final, cluster.logs())
    assert sum(final.values()) == N_JOBS, "every job ended terminal"
    assert final["lost"] <= in_flight
    assert max(j["attempts"] for j in jobs.values()) == 1, "the controller never handed a job out twice"
    assert max(claims.values()) == 1, [j for j, n in claims.items() if n > 1][:5]
    assert set(claims) >= {j for j, job in jobs.items() if job["status"] == "succeeded"}
    assert all(w.running for w in workers), "the workers rode out the replica's death"
    audit = cluster.audit_verify()
    assert audit.returncode == 0, (audit.stdout[-2000:], audit.stderr[-2000:])
