"""A worker's claim answers say how many jobs await approval that it could claim once approved: a count only,
matched exactly as a claim matches (labels, the credential's policies), and never on anyone else's answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from harness import ControllerProcess, HttpWorker

from kitgate.controller.db import Database
from kitgate.controller.store import JobStore, NewJob
from kitgate.protocol.wire import APPROVALS_WAITING_HEADER

TRIVIAL = "x = 1\n"


# ---------------------------------------------------------------- the store: same match as a claim
def _new(labels: list[str], policy: str) -> NewJob:
    return NewJob(owner="alice", policy=policy, policy_digest="sha256:abc", code=TRIVIAL, code_sha256="c" * 64,
                  labels=labels, timeout_s=5.0, limits={"timeout_s": 5}, max_retries=1, requires_approval=True)


def test_the_count_matches_what_a_claim_would_take_once_approved(tmp_path: Path) -> None:
    store = JobStore(Database(tmp_path / "kitgate.sqlite3"))
    store.migrate()
    kinds = [([], "trusted"), (["gpu"], "trusted"), (["gpu", "site-a"], "trusted"), (["site-a"], "scene-edit"),
             (["gpu"], "scene-edit"), (["it's", "50%_"], "trusted")]
    jobs = [store.create(_new(labels, policy))[0] for labels, policy in kinds]
    assert all(j.status == "pending_approval" for j in jobs)
    workers = [(labels, policies) for labels in ([], ["gpu"], ["gpu", "site-a"], ["site-a", "it's", "50%_"])
               for policies in (None, frozenset(), frozenset({"trusted"}), frozenset({"scene-edit", "trusted"}))]
    counted = {i: store.count_awaiting_approval(labels, policies, 100) for i, (labels, policies) in enumerate(workers)}
    # the claim's own matcher decides: approve one job at a time and ask it, then take the job out again
    expected = dict.fromkeys(counted, 0)
    for job in jobs:
        store.approve(job.id)
        for i, (labels, policies) in enumerate(workers):
            expected[i] += store.has_claimable(labels, policies)
        store.cancel(job.id)
    assert counted == expected
    assert len(set(counted.values())) > 3  # the matrix really tells workers apart


def test_the_count_is_capped_and_uses_the_status_index(tmp_path: Path) -> None:
    store = JobStore(Database(tmp_path / "kitgate.sqlite3"))
    store.migrate()
    for _ in range(5):
        store.create(_new([], "trusted"))
    store.create(replace(_new([], "trusted"), requires_approval=False))  # queued: not counted
    assert store.count_awaiting_approval([], None, 3) == 3
    assert store.count_awaiting_approval([], None, 100) == 5
    plan = store.db.connection().execute(
        "EXPLAIN QUERY PLAN SELECT 1 FROM jobs WHERE status='pending_approval'").fetchall()
    assert "jobs_queue" in str([tuple(r) for r in plan])


# ---------------------------------------------------------------- over HTTP: a real controller
def _waiting(resp: httpx.Response) -> int:
    value = resp.headers.get(APPROVALS_WAITING_HEADER)
    assert value is not None, (resp.status_code, dict(resp.headers))
    return int(value)


@pytest.fixture(scope="module")
def setup(controller: ControllerProcess, tokens: dict[str, str]) -> dict[str, str]:
    """Three trusted jobs awaiting approval: two for `gpu` workers, one for any worker."""
    with controller.client(tokens["operator"]) as op:
        ids = {}
        for name, labels in (("gpu1", ["gpu"]), ("gpu2", ["gpu"]), ("any", [])):
            r = op.post("/v1/jobs", json={"code": TRIVIAL, "policy": "trusted", "labels": labels})
            assert r.status_code == 202 and r.json()["status"] == "pending_approval", r.text
            ids[name] = r.json()["id"]
    return ids


def test_claim_answers_count_only_what_this_worker_could_claim(controller: ControllerProcess,
                                                                tokens: dict[str, str], setup: dict[str, str]) -> None:
    gpu = HttpWorker(controller, tokens["worker"], "w-gpu", labels=["gpu"])
    plain = HttpWorker(controller, tokens["worker"], "w-plain")
    other = HttpWorker(controller, tokens["worker"], "w-other", labels=["site-b"])  # its labels are not a superset
    scene_only = HttpWorker(controller, controller.mint_token("worker", policies=["scene-edit"]), "w-scene",
                            labels=["gpu"])
    try:
        claim_args = {"params": {"wait_s": 0}}
        answers = {w.worker_id: w.client.post("/v1/workers/claim", json={"worker_id": w.worker_id,
                                                                         "labels": w.labels}, **claim_args)
                   for w in (gpu, plain, other, scene_only)}
        assert {k: (r.status_code, _waiting(r)) for k, r in answers.items()} == {
            "w-gpu": (204, 3), "w-plain": (204, 1), "w-other": (204, 1), "w-scene": (204, 0)}
        assert all(set(r.content) == set() for r in answers.values())  # a count in a header, nothing in a body
        # a 200 carries it too, counted after the claim; and so does a report that claims the next job
        with controller.client(tokens["operator"]) as op:
            queued = op.post("/v1/jobs", json={"code": TRIVIAL, "labels": ["gpu"]})
            assert queued.status_code == 202 and queued.json()["status"] == "queued"
        r = gpu.client.post("/v1/workers/claim", json={"worker_id": "w-gpu", "labels": ["gpu"]}, **claim_args)
        assert r.status_code == 200 and _waiting(r) == 3
        claim = r.json()
        with controller.admin() as admin:
            assert admin.post(f"/v1/jobs/{setup['gpu1']}/approve").status_code == 200
            body = {"status": "succeeded", "worker_id": "w-gpu", "claim_id": claim["claim_id"]}
            r = gpu.client.post(f"/v1/jobs/{claim['job_id']}/result",
                                params={"next": "true", "wait_s": 0, "label": "gpu"}, json=body)
            assert r.status_code == 200, r.text
            assert r.json()["next"]["job_id"] == setup["gpu1"] and _waiting(r) == 2  # gpu2 and any remain
            assert admin.post(f"/v1/jobs/{setup['gpu2']}/reject", json={"reason": "no"}).status_code == 200
        r = plain.client.post("/v1/workers/claim", json={"worker_id": "w-plain"}, **claim_args)
        assert (r.status_code, _waiting(r)) == (204, 1)
        r = gpu.client.post("/v1/workers/claim", json={"worker_id": "w-gpu", "labels": ["gpu"]}, **claim_args)
        assert (r.status_code, _waiting(r)) == (204, 1)
    finally:
        for w in (gpu, plain, other, scene_only):
            w.close()


def test_no_other_answer_carries_the_count(controller: ControllerProcess, tokens: dict[str, str],
                                           setup: dict[str, str]) -> None:
    with controller.client(tokens["operator"]) as op, controller.admin() as admin, \
            controller.client(tokens["reader"]) as reader:
        answers = [
            op.get("/v1/jobs"), op.get(f"/v1/jobs/{setup['any']}"), reader.get("/v1/jobs"),
            op.post("/v1/jobs", json={"code": TRIVIAL, "policy": "trusted"}), admin.get("/v1/workers"),
            admin.get(f"/v1/jobs/{setup['any']}"), op.get("/healthz"),
            op.post("/v1/workers/claim", json={"worker_id": "w-op"}),  # refused: not a worker
            httpx.post(f"{controller.url}/v1/workers/claim", json={"worker_id": "w-anon"}),  # no token
        ]
    assert [r.status_code for r in answers][-2:] == [403, 401]
    assert all(APPROVALS_WAITING_HEADER.lower() not in {k.lower() for k in r.headers} for r in answers)
    assert {r.status_code for r in answers[:-2]} <= {200, 202}

