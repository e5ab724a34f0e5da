"""/v1/jobs, /v1/validate and their seed aliases over real HTTP against a real `kitgate serve`."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from harness import ControllerProcess, HttpWorker

TRIVIAL = "x = 1\n"


@pytest.fixture(scope="module")
def op(controller: ControllerProcess, tokens: dict[str, str]):
    with controller.client(tokens["operator"]) as c:
        yield c


@pytest.fixture(scope="module")
def worker(controller: ControllerProcess, tokens: dict[str, str]):
    w = HttpWorker(controller, tokens["worker"], worker_id=f"jobs-{uuid.uuid4().hex[:6]}",
                   labels=[f"lane-{uuid.uuid4().hex[:8]}"])
    yield w
    w.close()


def lane(worker: HttpWorker) -> list[str]:
    """Jobs labelled with this module's private lane are claimable only by this module's worker."""
    return list(worker.labels)


def submit(op, code: str = TRIVIAL, **fields) -> dict:
    r = op.post("/v1/jobs", json={"code": code, **fields})
    assert r.status_code == 202, r.text
    return r.json()


def test_submit_returns_202_and_a_queued_job(op, worker) -> None:
    job = submit(op, labels=lane(worker))
    assert job["status"] == "queued" and job["id"] == job["task_id"]
    assert job["policy"] == "scene-edit" and job["policy_digest"].startswith("sha256:")
    assert len(job["code_sha256"]) == 64 and job["labels"] == lane(worker)
    assert "code" not in job  # readers get the digest, not the source
    got = op.get(f"/v1/jobs/{job['id']}")
    assert got.status_code == 200 and got.json()["status"] == "queued"
    assert op.post(f"/v1/jobs/{job['id']}/cancel").json()["status"] == "cancelled"


def test_job_lifecycle_through_the_worker_api(op, worker) -> None:
    job = submit(op, code="print('hello')\n", labels=lane(worker))
    claim = worker.claim()
    assert claim is not None and claim["job_id"] == job["id"]
    assert claim["code"] == "print('hello')\n" and claim["envelope"].count(".") == 2
    r = worker.report(claim, stdout="hello\n", value={"n": 1},
                      timings={"started_at": time.time(), "run_ms": 0.5})
    assert r.status_code == 200, r.text
    done = op.get(f"/v1/jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["result"]["stdout"] == "hello\n"
    assert done["result"]["value"] == {"n": 1}
    t = done["result"]["timings"]
    assert t["queued_at"] <= t["claimed_at"] <= t["finished_at"] and t["started_at"] is not None
    assert done["attempts"] == 1 and done["worker_id"] == worker.worker_id


def test_wait_s_answers_when_the_result_lands(op, worker) -> None:
    """The waiting submit returns right after the report, long before its wait_s runs out."""
    box: dict = {}

    def client() -> None:
        t0 = time.monotonic()
        box["response"] = op.post("/v1/jobs", json={"code": TRIVIAL, "labels": lane(worker), "wait_s": 60})
        box["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=client)
    t.start()
    claim = worker.claim(wait_s=30)
    assert claim is not None
    assert worker.report(claim, stdout="done").status_code == 200
    t.join(90)
    assert box["response"].status_code == 200, box["response"].text
    assert box["response"].json()["status"] == "succeeded"
    assert box["elapsed"] < 45  # woken by the result, not by the 60 s wait expiring


def test_wait_s_expiring_returns_202_with_the_job(op, worker) -> None:
    r = op.post("/v1/jobs", json={"code": TRIVIAL, "labels": ["nobody-has-this"], "wait_s": 0.2})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    assert op.post(f"/v1/jobs/{r.json()['id']}/cancel").status_code == 200


def test_idempotency_key_returns_the_existing_job(op, controller, tokens, worker) -> None:
    key = f"deploy-{uuid.uuid4().hex}"
    first = submit(op, idempotency_key=key, labels=lane(worker))
    again = op.post("/v1/jobs", json={"code": TRIVIAL, "idempotency_key": key, "labels": lane(worker)})
    assert again.status_code == 202 and again.json()["id"] == first["id"]
    conflict = op.post("/v1/jobs", json={"code": "y = 2\n", "idempotency_key": key})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_conflict"
    with controller.client(tokens["other"]) as other:  # keys are per owner
        theirs = other.post("/v1/jobs", json={"code": TRIVIAL, "idempotency_key": key, "labels": lane(worker)})
        assert theirs.status_code == 202 and theirs.json()["id"] != first["id"]
        other.post(f"/v1/jobs/{theirs.json()['id']}/cancel")
    op.post(f"/v1/jobs/{first['id']}/cancel")


def test_policy_violation_is_422_with_diagnostics_and_stores_nothing(op) -> None:
    before = op.get("/v1/jobs", params={"limit": 1}).json()["jobs"]
    r = op.post("/v1/jobs", json={"code": "import os\nos.system('id')\n"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "policy_violation" and err["request_id"]
    v = err["details"]["violations"][0]
    assert {"line", "col", "rule", "message", "hint"} <= set(v) and v["line"] == 1
    after = op.get("/v1/jobs", params={"limit": 1}).json()["jobs"]
    assert [j["id"] for j in after] == [j["id"] for j in before]


def test_validate_compiles_without_queueing(op) -> None:
    ok = op.post("/v1/validate", json={"code": TRIVIAL})
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["violations"] == []
    bad = op.post("/v1/validate", json={"code": "open('/etc/passwd').read()\n"})
    assert bad.status_code == 200 and bad.json()["ok"] is False
    assert bad.json()["violations"][0]["line"] == 1


def test_unknown_policy_names_the_known_ones(op) -> None:
    r = op.post("/v1/jobs", json={"code": TRIVIAL, "policy": "does-not-exist"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "unknown_policy" and "scene-edit" in err["details"]["known"]
    assert "scene-edit" in err["message"]


def test_code_over_the_policy_limit_is_413_naming_the_limit(op) -> None:
    limit = op.get("/v1/policies/scene-edit").json()["limits"]["source_bytes"]
    code = "x = 1\n" * (limit // 6 + 10)
    r = op.post("/v1/jobs", json={"code": code})
    assert r.status_code == 413
    err = r.json()["error"]
    assert err["code"] == "code_too_large" and str(limit) in err["message"] and err["details"]["limit"] == limit


def test_requested_timeout_never_exceeds_the_policy(op) -> None:
    limit = op.get("/v1/policies/scene-edit").json()["limits"]["timeout_s"]
    job = submit(op, timeout_s=3600, labels=["nobody-has-this"])
    assert job["timeout_s"] == limit
    short = submit(op, timeout_s=0.5, labels=["nobody-has-this"])
    assert short["timeout_s"] == 0.5
    for j in (job, short):
        op.post(f"/v1/jobs/{j['id']}/cancel")


def test_jobs_are_private_to_their_owner(op, controller, tokens) -> None:
    mine = submit(op, labels=["nobody-has-this"])
    with controller.client(tokens["other"]) as other:
        assert other.get(f"/v1/jobs/{mine['id']}").status_code == 404
        assert other.get(f"/status/{mine['id']}").status_code == 404
        assert other.post(f"/v1/jobs/{mine['id']}/cancel").status_code == 404
        assert mine["id"] not in {j["id"] for j in other.get("/v1/jobs", params={"limit": 500}).json()["jobs"]}
    with controller.admin() as admin:
        assert admin.get(f"/v1/jobs/{mine['id']}").status_code == 200
    op.post(f"/v1/jobs/{mine['id']}/cancel")


def test_list_is_paginated_with_a_capped_limit(op) -> None:
    ids = [submit(op, labels=["nobody-has-this"])["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while len(seen) < 5:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = op.get("/v1/jobs", params=params).json()
        assert len(page["jobs"]) <= 2
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        assert cursor is not None
    assert seen[:5] == ids[::-1]  # newest first, no gaps or repeats across pages
    big = op.get("/v1/jobs", params={"limit": 10_000})
    assert big.status_code == 200 and len(big.json()["jobs"]) <= 500
    assert op.get("/v1/jobs", params={"limit": 0}).status_code == 422
    queued = op.get("/v1/jobs", params={"status": "queued", "limit": 500}).json()["jobs"]
    assert all(j["status"] == "queued" for j in queued)
    for jid in ids:
        op.post(f"/v1/jobs/{jid}/cancel")


def test_cancel_only_queued_jobs(op, worker) -> None:
    job = submit(op, labels=lane(worker))
    r = op.post(f"/v1/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = op.post(f"/v1/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and again.json()["error"]["details"]["status"] == "cancelled"
    assert worker.claim() is None  # a cancelled job is never handed out
    running = submit(op, labels=lane(worker))
    claim = worker.claim()
    assert claim["job_id"] == running["id"]
    busy = op.post(f"/v1/jobs/{running['id']}/cancel")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "not_cancellable"
    worker.report(claim)
    assert op.post("/v1/jobs/j_doesnotexist/cancel").status_code == 404


def test_unknown_job_ids_are_404_envelopes(op) -> None:
    for path in ("/v1/jobs/j_nope", "/status/j_nope"):
        r = op.get(path)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found" and r.json()["error"]["request_id"]


def test_seed_aliases_behave_like_v1(op, worker) -> None:
    queued = op.post("/queue", json={"code": TRIVIAL, "labels": lane(worker)})
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    task_id = queued.json()["task_id"]
    assert op.get(f"/status/{task_id}").json() == op.get(f"/v1/jobs/{task_id}").json()
    assert op.get("/last_status").json()["id"] == task_id
    claim = worker.client.get("/next_code", params={"worker_id": worker.worker_id, "labels": lane(worker)})
    assert claim.status_code == 200 and claim.json()["job_id"] == task_id
    claim = claim.json()
    upd = worker.client.post("/status_update", json={
        "task_id": task_id, "status": "succeeded", "worker_id": worker.worker_id, "claim_id": claim["claim_id"],
        "stdout": "via alias"})
    assert upd.status_code == 200 and upd.json()["status"] == "succeeded"
    twice = worker.client.post("/status_update", json={
        "task_id": task_id, "status": "succeeded", "worker_id": worker.worker_id, "claim_id": claim["claim_id"]})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_reported"
    assert worker.client.get("/next_code", params={"worker_id": worker.worker_id, "labels": lane(worker)}
                             ).status_code == 204

    box: dict = {}
    t = threading.Thread(target=lambda: box.update(r=op.post("/execute", json={"code": TRIVIAL,
                                                                               "labels": lane(worker)})))
    t.start()
    claim = worker.claim(wait_s=30)
    assert claim is not None
    worker.report(claim, stdout="executed")
    t.join(60)
    assert box["r"].status_code == 200 and box["r"].json()["result"]["stdout"] == "executed"
    assert op.post("/execute", json={"code": "import os\n"}).json()["error"]["code"] == "policy_violation"


def test_last_status_for_a_caller_without_jobs_is_404(controller) -> None:
    fresh = controller.mint_token("jobs:read")
    with controller.client(fresh) as c:
        r = c.get("/last_status")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_labels_are_validated_and_bounded(op) -> None:
    bad = op.post("/v1/jobs", json={"code": TRIVIAL, "labels": ["has space"]})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["errors"][0]["loc"][:2] == ["body", "labels"]
    many = op.post("/v1/jobs", json={"code": TRIVIAL, "labels": [f"l{i}" for i in range(40)]})
    assert many.status_code == 422


def test_policies_are_listed_and_described(op) -> None:
    r = op.get("/v1/policies")
    assert r.status_code == 200
    names = {p["name"] for p in r.json()["policies"]}
    assert {"readonly", "scene-edit", "trusted"} <= names
    one = op.get("/v1/policies/trusted")
    assert one.status_code == 200 and one.json()["mode"] == "in_process"
    assert op.get("/v1/policies/nope").status_code == 404


def test_tokens_limited_to_policies(controller) -> None:
    limited = controller.mint_token("jobs:submit", "jobs:read", policies=["readonly"])
    with controller.client(limited) as c:
        denied = c.post("/v1/jobs", json={"code": TRIVIAL})  # default policy scene-edit
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "policy_not_allowed"
        assert c.post("/v1/validate", json={"code": TRIVIAL, "policy": "trusted"}).status_code == 403
        ok = c.post("/v1/jobs", json={"code": "n = len(list(stage.Traverse()))\n", "policy": "readonly",
                                      "labels": ["nobody-has-this"]})
        assert ok.status_code == 202, ok.text
        assert {p["name"] for p in c.get("/v1/policies").json()["policies"]} == {"readonly"}
        assert c.get("/v1/policies/scene-edit").status_code == 404
        c.post(f"/v1/jobs/{ok.json()['id']}/cancel")
