"""Scopes and policy restrictions over real HTTP: the full endpoint x identity matrix, every refusal audited.

(tests/controller/test_api_workers.py checks a few of these cells; this is the whole table.)
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import ControllerProcess

from .helpers import assert_envelope, audit_for, one_audit

TRIVIAL = "x = 1\n"
PARKED = {"code": TRIVIAL, "labels": ["no-worker-has-this"]}  # queued jobs no test worker will claim
RESULT = {"status": "succeeded", "worker_id": "w-scope", "claim_id": "c_x"}
SUBMIT, READ, WORKER, ADMIN = "jobs:submit", "jobs:read", "worker", "admin"

# method, path, query, body, scopes that may call it (any one of them)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, Any, set[str]]] = [
    ("POST", "/v1/validate", None, {"code": TRIVIAL}, {SUBMIT}),
    ("POST", "/v1/jobs", None, PARKED, {SUBMIT}),
    ("GET", "/v1/jobs", None, None, {READ}),
    ("GET", "/v1/jobs/j_x", None, None, {READ}),
    ("POST", "/v1/jobs/j_x/cancel", None, None, {SUBMIT}),
    ("POST", "/v1/jobs/j_x/approve", None, None, {ADMIN}),
    ("POST", "/v1/jobs/j_x/result", None, RESULT, {WORKER}),
    ("POST", "/v1/workers/claim", {"wait_s": 0}, {"worker_id": "w-scope"}, {WORKER}),
    ("POST", "/v1/workers/heartbeat", None, {"worker_id": "w-scope"}, {WORKER}),
    ("GET", "/v1/workers", None, None, {ADMIN}),
    ("GET", "/v1/policies", None, None, {READ}),
    ("GET", "/v1/policies/scene-edit", None, None, {READ}),
    ("GET", "/v1/keys", None, None, {WORKER, ADMIN}),
    ("GET", "/v1/audit", None, None, {ADMIN}),
    ("GET", "/v1/metrics", None, None, {ADMIN}),
    ("POST", "/execute", None, {**PARKED, "wait_s": 0}, {SUBMIT}),
    ("POST", "/queue", None, PARKED, {SUBMIT}),
    ("GET", "/status/j_x", None, None, {READ}),
    ("GET", "/last_status", None, None, {READ}),
    ("GET", "/next_code", {"worker_id": "w-scope"}, None, {WORKER}),
    ("POST", "/status_update", None, {**RESULT, "task_id": "j_x"}, {WORKER}),
]
IDENTITIES = {
    "admin": {ADMIN, SUBMIT, READ},
    "operator": {SUBMIT, READ},
    "submitter": {SUBMIT},
    "reader": {READ},
    "worker": {WORKER},
    "admin-only": {ADMIN},
}


def may(scopes: set[str], needed: set[str]) -> bool:
    # admin manages everything but never acts as a worker
    return bool(scopes & needed) or (ADMIN in scopes and needed != {WORKER})


@pytest.fixture(scope="module")
def identities(controller: ControllerProcess) -> dict[str, str]:
    out = {name: controller.mint_token(*sorted(scopes)) for name, scopes in IDENTITIES.items() if name != "admin"}
    out["admin"] = controller.admin_token
    return out


@pytest.mark.parametrize("who", sorted(IDENTITIES))
def test_scope_matrix(controller: ControllerProcess, identities: dict[str, str], who: str) -> None:
    allowed_seen = denied_seen = 0
    with controller.client(identities[who]) as c:
        for method, path, query, body, needed in ENDPOINTS:
            r = c.request(method, path, params=query, json=body)
            if may(IDENTITIES[who], needed):
                assert r.status_code not in (401, 403), (who, method, path, r.status_code, r.text[:300])
                allowed_seen += 1
                continue
            err = assert_envelope(r, 403, "forbidden")
            assert err["message"].startswith("this credential lacks the scope") and err["details"] == {}, err
            assert "www-authenticate" not in r.headers
            record = one_audit(controller, r, "auth.denied_scope")
            assert sorted(record["data"]["needed"]) == sorted(needed) and record["actor"] is not None
            denied_seen += 1
    assert allowed_seen and denied_seen


def test_worker_tokens_do_only_worker_things(controller: ControllerProcess, identities: dict[str, str]) -> None:
    """The rows of the matrix that matter most, spelled out: claim, heartbeat, report and keys, nothing else."""
    worker_ok = {(m, p) for m, p, _, _, needed in ENDPOINTS if may({WORKER}, needed)}
    assert worker_ok == {("POST", "/v1/jobs/j_x/result"), ("POST", "/v1/workers/claim"),
                         ("POST", "/v1/workers/heartbeat"), ("GET", "/v1/keys"), ("GET", "/next_code"),
                         ("POST", "/status_update")}
    operator_ok = {(m, p) for m, p, _, _, needed in ENDPOINTS if may({SUBMIT, READ}, needed)}
    assert not operator_ok & {("POST", "/v1/workers/claim"), ("GET", "/next_code"), ("POST", "/v1/workers/heartbeat"),
                              ("POST", "/v1/jobs/j_x/result"), ("POST", "/status_update")}


def test_policy_restricted_tokens_are_refused_and_audited(controller: ControllerProcess) -> None:
    limited = controller.mint_token(SUBMIT, READ, policies=["readonly"])
    with controller.client(limited) as c:
        for path, body in (("/v1/jobs", {**PARKED}), ("/v1/validate", {"code": TRIVIAL, "policy": "trusted"}),
                           ("/queue", {**PARKED, "policy": "scene-edit"}),
                           ("/execute", {**PARKED, "policy": "trusted", "wait_s": 0})):
            r = c.post(path, json=body)
            err = assert_envelope(r, 403, "policy_not_allowed")
            assert err["details"]["policy"] in {"scene-edit", "trusted"}
            record = one_audit(controller, r, "policy_denied")
            assert record["data"]["policy"] == err["details"]["policy"]
        ok = c.post("/v1/jobs", json={**PARKED, "policy": "readonly", "code": "n = 1\n"})
        assert ok.status_code == 202, ok.text
        assert [r["event"] for r in audit_for(controller, ok)] == ["job_submitted"]
        assert c.get("/v1/policies/trusted").status_code == 404  # other policies do not even exist for it
