"""Worker API over real HTTP: long-poll claims, labels, atomic claims, results, heartbeats, lost jobs."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import ControllerProcess, HttpWorker

TRIVIAL = "x = 1\n"


@pytest.fixture(scope="module")
def op(controller: ControllerProcess, tokens: dict[str, str]):
    with controller.client(tokens["operator"]) as c:
        yield c


@pytest.fixture()
def worker(controller: ControllerProcess, tokens: dict[str, str]):
    w = HttpWorker(controller, tokens["worker"], worker_id="w-main")
    yield w
    w.close()


def submit(op, **fields) -> dict:
    r = op.post("/v1/jobs", json={"code": TRIVIAL, **fields})
    assert r.status_code == 202, r.text
    return r.json()


def test_claim_with_nothing_queued_is_204(worker) -> None:
    r = worker.client.post("/v1/workers/claim", params={"wait_s": 0.1}, json={"worker_id": "w-main"})
    assert r.status_code == 204 and r.content == b""


def test_long_poll_is_woken_by_a_submit(op, worker) -> None:
    """A claim waiting 30 s returns right after a job is submitted (logic check, not a timing threshold)."""
    box: dict = {}

    def poll() -> None:
        t0 = time.monotonic()
        box["claim"] = worker.claim(wait_s=30)
        box["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)  # let the claim start waiting
    job = submit(op)
    t.join(60)
    assert box["claim"] is not None and box["claim"]["job_id"] == job["id"]
    assert box["elapsed"] < 20  # far below the 30 s it would take if nothing woke it
    worker.report(box["claim"])


def test_claim_wait_is_capped_by_settings(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_CLAIM_MAX_WAIT_S": "0.5"}, name="capped")
    w = HttpWorker(ctl, ctl.mint_token("worker"))
    t0 = time.monotonic()
    assert w.claim(wait_s=600) is None  # accepted, but capped at 0.5 s
    assert time.monotonic() - t0 < 300
    w.close()


def test_labels_route_jobs_to_capable_workers(op, controller, tokens) -> None:
    plain = HttpWorker(controller, tokens["worker"], "w-plain")
    gpu = HttpWorker(controller, tokens["worker"], "w-gpu", labels=["gpu", "rtx"])
    job = submit(op, labels=["gpu"])
    assert plain.claim() is None
    claim = gpu.claim()
    assert claim is not None and claim["job_id"] == job["id"]
    assert gpu.report(claim).status_code == 200
    plain.close()
    gpu.close()


def test_claims_are_fifo(op, worker) -> None:
    ids = [submit(op)["id"] for _ in range(3)]
    got = []
    for _ in ids:
        claim = worker.claim()
        got.append(claim["job_id"])
        worker.report(claim)
    assert got == ids


def test_concurrent_claims_never_double_assign(op, controller, tokens) -> None:
    ids = {submit(op)["id"] for _ in range(40)}
    workers = [HttpWorker(controller, tokens["worker"], f"w-race-{i}") for i in range(6)]

    def drain(w: HttpWorker) -> list[str]:
        mine = []
        while (claim := w.claim()) is not None:
            mine.append(claim["job_id"])
            assert w.report(claim).status_code == 200
        return mine

    with ThreadPoolExecutor(len(workers)) as pool:
        results = list(pool.map(drain, workers))
    claimed = [j for r in results for j in r]
    assert sorted(claimed) == sorted(ids) and len(set(claimed)) == len(claimed)
    for w in workers:
        w.close()


def test_results_only_from_the_claim_holder(op, controller, tokens, worker) -> None:
    job = submit(op)
    claim = worker.claim()
    intruder = HttpWorker(controller, tokens["worker"], "w-intruder")
    r = intruder.report(claim)  # right claim id, wrong worker id
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_claimed"
    forged = worker.report({**claim, "claim_id": "c_forged"})
    assert forged.status_code == 409 and forged.json()["error"]["code"] == "not_claimed"
    other_token = HttpWorker(controller, controller.mint_token("worker"), "w-main")  # same id, other identity
    assert other_token.report(claim).status_code == 403  # the id is bound to the token that registered it
    assert other_token.heartbeat(claim).status_code == 403  # nor keep it alive
    assert worker.report(claim, status="failed", error={"type": "ZeroDivisionError", "message": "x", "line": 1}
                         ).status_code == 200
    twice = worker.report(claim)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_reported"
    assert op.get(f"/v1/jobs/{job['id']}").json()["status"] == "failed"
    missing = worker.client.post("/v1/jobs/j_missing/result", json={"status": "succeeded", "worker_id": "w-main",
                                                                     "claim_id": "c"})
    assert missing.status_code == 404
    intruder.close()
    other_token.close()


@pytest.mark.parametrize("status", ["queued", "running", "cancelled", "lost", "pending_approval"])
def test_workers_cannot_report_non_terminal_or_controller_statuses(op, worker, status) -> None:
    submit(op)
    claim = worker.claim()
    r = worker.report(claim, status=status)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_status"
    assert worker.report(claim).status_code == 200


def test_result_without_claim_is_422(op, worker) -> None:
    job = submit(op)
    claim = worker.claim()
    r = worker.client.post(f"/v1/jobs/{job['id']}/result", json={"status": "succeeded"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "claim_required"
    worker.report(claim)


def test_heartbeat_and_cancel_signal(op, worker) -> None:
    assert worker.heartbeat().json() == {"ok": True, "cancel": False}
    submit(op)
    claim = worker.claim()
    assert worker.heartbeat(claim).json() == {"ok": True, "cancel": False}
    assert worker.heartbeat({**claim, "claim_id": "c_other"}).json()["cancel"] is True
    worker.report(claim)
    assert worker.heartbeat(claim).json()["cancel"] is True  # nothing to work on any more


def test_workers_listing_is_admin_only(controller, tokens, worker) -> None:
    worker.heartbeat()
    with controller.admin() as admin:
        r = admin.get("/v1/workers")
        assert r.status_code == 200 and "w-main" in {w["id"] for w in r.json()["workers"]}
    with controller.client(tokens["operator"]) as op:
        assert op.get("/v1/workers").status_code == 403


def test_worker_tokens_cannot_submit_and_operators_cannot_claim(controller, tokens) -> None:
    with controller.client(tokens["worker"]) as w:
        assert w.post("/v1/jobs", json={"code": TRIVIAL}).status_code == 403
        assert w.get("/v1/jobs").status_code == 403
    with controller.client(tokens["operator"]) as op:
        assert op.post("/v1/workers/claim", json={"worker_id": "x"}).status_code == 403
        assert op.get("/next_code", params={"worker_id": "x"}).status_code == 403


def test_keys_endpoint_serves_the_envelope_jwks(controller, tokens) -> None:
    with controller.client(tokens["worker"]) as w:
        r = w.get("/v1/keys")
        assert r.status_code == 200 and r.json()["keys"]
        assert all("d" not in k for k in r.json()["keys"])  # public halves only


def test_stale_running_jobs_become_lost_and_are_not_rerun(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_HEARTBEAT_TIMEOUT_S": "1", "KITGATE_LOST_CHECK_INTERVAL_S": "0.1"},
                             name="lost")
    w = HttpWorker(ctl, ctl.mint_token("worker"), "w-dies")
    with ctl.client(ctl.mint_token("jobs:submit", "jobs:read")) as op:
        box: dict = {}
        job = submit(op)
        waiter = threading.Thread(target=lambda: box.update(r=op.get(f"/v1/jobs/{job['id']}",
                                                                     params={"wait_s": 60})))
        waiter.start()
        claim = w.claim()
        assert claim["job_id"] == job["id"]
        waiter.join(90)  # the worker never heartbeats: the sweeper marks the job lost and wakes the waiter
        assert box["r"].json()["status"] == "lost"
        assert box["r"].json()["result"]["error"]["type"] == "lost"
        assert w.claim() is None  # never re-queued
        late = w.report(claim)
        assert late.status_code == 409 and late.json()["error"]["code"] == "claim_lost"
        assert w.heartbeat(claim).json()["cancel"] is True
    w.close()


def test_heartbeats_keep_a_long_job_alive(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_HEARTBEAT_TIMEOUT_S": "1", "KITGATE_LOST_CHECK_INTERVAL_S": "0.1"},
                             name="alive")
    w = HttpWorker(ctl, ctl.mint_token("worker"), "w-alive")
    with ctl.client(ctl.mint_token("jobs:submit", "jobs:read")) as op:
        job = submit(op)
        claim = w.claim()
        for _ in range(8):  # 2.4 s of work, beyond the 1 s timeout, with heartbeats every 0.3 s
            assert w.heartbeat(claim).json()["cancel"] is False
            time.sleep(0.3)
        assert w.report(claim).status_code == 200
        assert op.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"
    w.close()


def test_job_refused_before_start_is_requeued_up_to_max_retries(op, controller, tokens, worker) -> None:
    job = submit(op, max_retries=1)
    not_started = {"type": "not_started", "message": "envelope expired before execution"}
    first = worker.claim()
    r = worker.report(first, status="rejected", error=not_started)
    assert r.status_code == 200 and r.json()["status"] == "queued"
    second = worker.claim()
    assert second["job_id"] == job["id"] and second["claim_id"] != first["claim_id"]
    assert worker.report(second, status="rejected", error=not_started).json()["status"] == "rejected"
    assert op.get(f"/v1/jobs/{job['id']}").json()["attempts"] == 2


def test_approval_gate(controller_factory, tmp_path) -> None:
    from kitgate.sandbox.policy import list_policies

    source = next(p for p in list_policies() if p.name == "scene-edit").source
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    for p in list_policies():
        (policy_dir / f"{p.name}.toml").write_text(p.source)
    lines = []
    for line in source.splitlines():
        if line.startswith("name"):
            line = 'name = "needs-approval"'
        elif line.startswith("requires_approval"):
            continue
        lines.append(line)
    lines.insert(1, "requires_approval = true")
    (policy_dir / "needs-approval.toml").write_text("\n".join(lines) + "\n")
    ctl = controller_factory({"KITGATE_POLICY_DIR": str(policy_dir)}, name="approval")
    w = HttpWorker(ctl, ctl.mint_token("worker"), "w-approve")
    with ctl.client(ctl.mint_token("jobs:submit", "jobs:read")) as op, ctl.admin() as admin:
        job = submit(op, policy="needs-approval")
        assert job["status"] == "pending_approval"
        assert w.claim() is None
        assert op.post(f"/v1/jobs/{job['id']}/approve").status_code == 403  # admin only
        box: dict = {}
        t = threading.Thread(target=lambda: box.update(c=w.claim(wait_s=30)))
        t.start()
        time.sleep(0.2)
        approved = admin.post(f"/v1/jobs/{job['id']}/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "queued"
        t.join(60)
        assert box["c"]["job_id"] == job["id"]  # the approval woke the waiting claim
        again = admin.post(f"/v1/jobs/{job['id']}/approve")
        assert again.status_code == 409
        w.report(box["c"])
    w.close()


def test_a_hung_up_long_poll_never_takes_a_job(op, controller, tokens, worker) -> None:
    """A worker killed while long-polling must not be handed the next job (it would only become lost)."""
    import subprocess
    import sys

    code = (f"import httpx; httpx.post({controller.url + '/v1/workers/claim'!r}, params={{'wait_s': 30}}, "
            f"json={{'worker_id': 'w-dead'}}, headers={{'Authorization': 'Bearer {tokens['worker']}'}}, timeout=60)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(1.5)  # the poll is waiting server-side
    proc.kill()
    proc.wait()
    time.sleep(0.3)
    job = submit(op)
    claim = worker.claim(wait_s=5)
    assert claim is not None and claim["job_id"] == job["id"]
    worker.report(claim)


def test_shutdown_answers_pending_long_polls(controller_factory) -> None:
    ctl = controller_factory(name="shutdown")
    w = HttpWorker(ctl, ctl.mint_token("worker"), "w-shutdown")
    box: dict = {}
    t = threading.Thread(target=lambda: box.update(r=w.client.post(
        "/v1/workers/claim", params={"wait_s": 60}, json={"worker_id": "w-shutdown"})))
    t.start()
    time.sleep(0.5)
    assert ctl.stop() in (0, -15)  # uvicorn re-raises SIGTERM after a graceful shutdown
    t.join(30)
    assert box["r"].status_code == 204  # released, not cut off with a 500
    w.close()
