"""Worker identity over real HTTP: a worker id belongs to the credential that first registered it.

Why: any worker token could heartbeat or claim under another worker's `worker_id` and so rewrite that
worker's labels, stage and state (what operators read in `GET /v1/workers`), and a worker token restricted
with `--policy readonly` still claimed `scene-edit` jobs. A worker id is now bound (in SQLite, so the binding
survives restarts) to the token or API key that first used it; another live credential gets a 403, and a
credential's policy restriction holds at claim time too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from harness import ControllerProcess, HttpWorker, run_kitgate

from .helpers import assert_envelope, audit_for, data_dir_args, jti_of, sqlite_path

TRIVIAL = "x = 1\n"


@pytest.fixture(scope="module")
def op(controller: ControllerProcess, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    with controller.client(tokens["operator"]) as c:
        yield c


def workers_seen(ctl: ControllerProcess) -> dict[str, dict[str, Any]]:
    with ctl.admin() as admin:
        r = admin.get("/v1/workers")
        assert r.status_code == 200, r.text
        return {w["id"]: w for w in r.json()["workers"]}


def assert_taken(r: httpx.Response, worker_id: str) -> dict[str, Any]:
    err = assert_envelope(r, 403, "worker_id_taken")
    assert worker_id in err["message"] and "revoke" in err["message"] and "own worker id" in err["message"], err
    assert err["details"]["worker_id"] == worker_id, err
    return err


def drain(ctl: ControllerProcess, op: httpx.Client) -> None:
    """Leave nothing queued for the next test: a fresh unrestricted worker takes whatever is left."""
    w = HttpWorker(ctl, ctl.mint_token("worker"), f"w-drain-{time.monotonic_ns()}", labels=["cpu", "gpu"])
    while (claim := w.claim()) is not None:
        w.report(claim)
    w.close()


def test_another_token_cannot_heartbeat_under_a_registered_id(controller) -> None:
    owner = HttpWorker(controller, controller.mint_token("worker"), "w-owned-hb", labels=["gpu"])
    assert owner.claim() is None
    assert owner.client.post("/v1/workers/heartbeat", json={"worker_id": "w-owned-hb", "stage": "/real/stage.usda",
                                                            "state": "idle"}).status_code == 200
    before = workers_seen(controller)["w-owned-hb"]
    intruder = HttpWorker(controller, controller.mint_token("worker"), "w-owned-hb")
    r = intruder.client.post("/v1/workers/heartbeat", json={"worker_id": "w-owned-hb", "stage": "/evil.usda",
                                                             "state": "crashed"})
    err = assert_taken(r, "w-owned-hb")
    assert "/real" not in err["message"]  # nothing about the owner leaks
    after = workers_seen(controller)["w-owned-hb"]
    assert (after["stage"], after["state"], after["labels"]) == (before["stage"], before["state"], ["gpu"])
    refused = [row for row in audit_for(controller, r) if row["event"] == "worker.identity_denied"]
    assert refused and refused[0]["data"]["worker_id"] == "w-owned-hb"
    owner.close()
    intruder.close()


def test_another_token_cannot_claim_under_a_registered_id(controller, op) -> None:
    owner = HttpWorker(controller, controller.mint_token("worker"), "w-owned-claim", labels=["gpu"])
    assert owner.claim() is None
    intruder = HttpWorker(controller, controller.mint_token("worker"), "w-owned-claim", labels=["cpu"])
    job = op.post("/v1/jobs", json={"code": TRIVIAL, "labels": ["cpu"]}).json()
    assert_taken(intruder.client.post("/v1/workers/claim", json={"worker_id": "w-owned-claim", "labels": ["cpu"]}),
                 "w-owned-claim")
    assert_taken(intruder.client.get("/next_code", params={"worker_id": "w-owned-claim", "labels": ["cpu"]}),
                 "w-owned-claim")
    assert workers_seen(controller)["w-owned-claim"]["labels"] == ["gpu"]
    assert op.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued"  # the intruder took nothing
    owner.close()
    intruder.close()
    drain(controller, op)


def test_same_subject_other_token_and_api_keys_are_other_credentials(controller) -> None:
    """The binding is to the credential (token id / key id), not to the name a token carries."""
    first_token = controller.mint_token("worker", sub="shared-sub")
    first = HttpWorker(controller, first_token, "w-by-credential")
    assert first.heartbeat().status_code == 200
    same_sub = HttpWorker(controller, controller.mint_token("worker", sub="shared-sub"), "w-by-credential")
    assert_taken(same_sub.heartbeat(), "w-by-credential")
    key = run_kitgate(["apikey", "create", "--scope", "worker", *data_dir_args(controller)]).stdout.strip()
    with httpx.Client(base_url=controller.url, headers={"X-API-Key": key}) as c:
        assert_taken(c.post("/v1/workers/heartbeat", json={"worker_id": "w-by-credential"}), "w-by-credential")
        assert c.post("/v1/workers/heartbeat", json={"worker_id": "w-api-key-own"}).status_code == 200
    with controller.client(first_token) as c:
        assert_taken(c.post("/v1/workers/heartbeat", json={"worker_id": "w-api-key-own"}), "w-api-key-own")
    assert first.heartbeat().status_code == 200  # the owner is untouched
    first.close()
    same_sub.close()


def test_another_token_cannot_report_under_a_registered_id(controller, op) -> None:
    drain(controller, op)
    owner = HttpWorker(controller, controller.mint_token("worker"), "w-owned-report")
    op.post("/v1/jobs", json={"code": TRIVIAL})
    claim = owner.claim()
    assert claim is not None
    intruder = HttpWorker(controller, controller.mint_token("worker"), "w-owned-report")
    assert_taken(intruder.report(claim), "w-owned-report")
    assert owner.report(claim).status_code == 200
    owner.close()
    intruder.close()


def test_one_token_may_serve_several_ids_and_re_register_after_a_restart(controller_factory) -> None:
    ctl = controller_factory(name="identity-restart")
    token, other = ctl.mint_token("worker"), ctl.mint_token("worker")
    a, b = HttpWorker(ctl, token, "w-a"), HttpWorker(ctl, token, "w-b")
    assert a.heartbeat().status_code == 200 and b.heartbeat().status_code == 200
    a.close()
    b.close()
    ctl.restart()
    again = HttpWorker(ctl, token, "w-a")
    assert again.heartbeat().status_code == 200 and again.claim() is None
    intruder = HttpWorker(ctl, other, "w-b")
    assert_taken(intruder.heartbeat(), "w-b")  # the binding survived the restart
    again.close()
    intruder.close()


def test_revoked_or_expired_binding_frees_the_id(controller) -> None:
    old_token = controller.mint_token("worker")
    old = HttpWorker(controller, old_token, "w-rotated")
    assert old.heartbeat().status_code == 200
    new = HttpWorker(controller, controller.mint_token("worker"), "w-rotated")
    assert_taken(new.heartbeat(), "w-rotated")
    run_kitgate(["token", "revoke", jti_of(old_token), *data_dir_args(controller)])
    r = new.heartbeat()
    assert r.status_code == 200, r.text
    rebound = [row for row in audit_for(controller, r) if row["event"] == "worker.rebound"]
    assert rebound and rebound[0]["data"]["worker_id"] == "w-rotated"
    assert old.heartbeat().status_code == 401

    short = HttpWorker(controller, controller.mint_token("worker", ttl_s=2), "w-expiring")
    assert short.heartbeat().status_code == 200
    successor = HttpWorker(controller, controller.mint_token("worker"), "w-expiring")
    assert_taken(successor.heartbeat(), "w-expiring")
    time.sleep(3)
    assert successor.heartbeat().status_code == 200
    for w in (old, new, short, successor):
        w.close()


def test_admin_can_release_a_binding(controller) -> None:
    """Rotation without revoking: the old token may still serve other worker ids."""
    owner = HttpWorker(controller, controller.mint_token("worker"), "w-released")
    assert owner.heartbeat().status_code == 200
    successor = HttpWorker(controller, controller.mint_token("worker"), "w-released")
    assert_taken(successor.heartbeat(), "w-released")
    assert successor.client.post("/v1/workers/w-released/release").status_code == 403  # admin only
    with controller.admin() as admin:
        r = admin.post("/v1/workers/w-released/release")
        assert r.status_code == 200 and r.json()["released"] is True, r.text
        assert [row["event"] for row in audit_for(controller, r)] == ["worker.released"]
        missing = admin.post("/v1/workers/w-never-seen/release")
        assert_envelope(missing, 404, "not_found")
    assert successor.heartbeat().status_code == 200
    assert_taken(owner.heartbeat(), "w-released")
    owner.close()
    successor.close()


def test_a_policy_restricted_worker_claims_only_jobs_its_token_allows(controller, op) -> None:
    drain(controller, op)
    readonly = HttpWorker(controller, controller.mint_token("worker", policies=["readonly"]), "w-readonly")
    edit = op.post("/v1/jobs", json={"code": TRIVIAL, "policy": "scene-edit"}).json()
    assert readonly.claim() is None
    r = readonly.client.get("/next_code", params={"worker_id": "w-readonly"})
    assert r.status_code == 204
    assert op.get(f"/v1/jobs/{edit['id']}").json()["status"] == "queued"
    ro_job = op.post("/v1/jobs", json={"code": TRIVIAL, "policy": "readonly"}).json()
    claim = readonly.claim()
    assert claim is not None and claim["job_id"] == ro_job["id"] and claim["policy"] == "readonly"
    assert readonly.report(claim).status_code == 200
    anyone = HttpWorker(controller, controller.mint_token("worker"), "w-unrestricted")
    claim = anyone.claim()
    assert claim is not None and claim["job_id"] == edit["id"]  # it waited for a worker allowed to run it
    assert anyone.report(claim).status_code == 200
    readonly.close()
    anyone.close()


def test_a_policy_restricted_long_poll_is_not_handed_other_jobs(controller, op) -> None:
    drain(controller, op)
    key = run_kitgate(["apikey", "create", "--scope", "worker", "--policy", "readonly",
                       *data_dir_args(controller)]).stdout.strip()
    got: dict[str, Any] = {}

    def poll() -> None:
        with httpx.Client(base_url=controller.url, headers={"X-API-Key": key}, timeout=30) as c:
            got["r"] = c.post("/v1/workers/claim", params={"wait_s": 1.5}, json={"worker_id": "w-ro-key"})

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    job = op.post("/v1/jobs", json={"code": TRIVIAL}).json()  # the default policy, scene-edit
    t.join(10)
    assert got["r"].status_code == 204, got["r"].text
    assert op.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued"
    drain(controller, op)


def test_bindings_are_stored(controller) -> None:
    token = controller.mint_token("worker")
    w = HttpWorker(controller, token, "w-stored")
    assert w.heartbeat().status_code == 200
    conn = sqlite3.connect(f"file:{sqlite_path(controller)}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT credential FROM workers WHERE id='w-stored'").fetchone()
    finally:
        conn.close()
    assert row == (f"token:{jti_of(token)}",)
    assert workers_seen(controller)["w-stored"]["credential"] == f"token:{jti_of(token)}"
    w.close()
