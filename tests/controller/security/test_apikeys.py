"""Static API keys for CI over real HTTP: shown once, stored hashed, same scopes/policies/networks, revocable."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time

import pytest
from harness import ControllerProcess, HttpWorker, run_kitgate

from .helpers import (
    assert_401,
    assert_envelope,
    assert_expired_401,
    audit_rows,
    data_dir_args,
    one_audit,
    sqlite_path,
)

PARKED = {"code": "x = 1\n", "labels": ["no-worker-has-this"]}


def create(ctl: ControllerProcess, *args: str) -> str:
    out = run_kitgate(["apikey", "create", *args, *data_dir_args(ctl)])
    key = out.stdout.strip()
    assert out.stdout.count("\n") == 1 and key.startswith("kg_"), out.stdout  # the key and nothing else
    return key


def key_id(key: str) -> str:
    return key.split("_")[1]


@pytest.fixture(scope="module")
def ci_key(controller: ControllerProcess) -> str:
    return create(controller, "--scope", "jobs:submit", "--scope", "jobs:read", "--sub", "ci-pipeline")


def test_key_is_shown_once_and_stored_as_a_digest(controller: ControllerProcess, ci_key: str) -> None:
    conn = sqlite3.connect(f"file:{sqlite_path(controller)}?mode=ro", uri=True)
    row = conn.execute("SELECT * FROM apikeys WHERE id=?", (key_id(ci_key),)).fetchone()
    columns = [d[0] for d in conn.execute("SELECT * FROM apikeys LIMIT 0").description]
    conn.close()
    stored = dict(zip(columns, row, strict=True))
    assert stored["digest"] == hashlib.sha256(ci_key.encode()).hexdigest()
    secret = ci_key.split("_", 2)[2]
    assert all(secret not in str(v) for v in stored.values())
    for path in controller.data_dir.rglob("*"):  # not in the database, its WAL, the anchor, anywhere
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    listed = run_kitgate(["apikey", "list", "--json", *data_dir_args(controller)]).stdout
    assert secret not in listed and key_id(ci_key) in listed
    plain = run_kitgate(["apikey", "list", *data_dir_args(controller)]).stdout
    assert "ci-pipeline" in plain and "active" in plain and secret not in plain
    created = [r for r in audit_rows(controller, event="apikey.created") if r["data"]["key_id"] == key_id(ci_key)]
    assert len(created) == 1 and secret not in json.dumps(created)


@pytest.mark.parametrize("style", ["bearer", "x-api-key"])
def test_key_works_as_bearer_or_x_api_key(controller: ControllerProcess, ci_key: str, style: str) -> None:
    headers = {"Authorization": f"Bearer {ci_key}"} if style == "bearer" else {"X-API-Key": ci_key}
    with controller.client() as c:
        r = c.post("/v1/jobs", json=PARKED, headers=headers)
        assert r.status_code == 202, r.text
        assert r.json()["owner"] == "ci-pipeline"
        assert one_audit(controller, r, "job_submitted")["actor"] == "ci-pipeline"
        assert c.get(f"/v1/jobs/{r.json()['id']}", headers=headers).status_code == 200
        denied = c.post("/v1/workers/claim", json={"worker_id": "w-ci"}, headers=headers)
        assert_envelope(denied, 403, "forbidden")  # the key's scopes, not more
        assert one_audit(controller, denied, "auth.denied_scope")["data"]["kind"] == "apikey"


def test_wrong_and_ambiguous_keys_are_plain_401s(controller: ControllerProcess, ci_key: str) -> None:
    secret = ci_key.split("_", 2)[2]
    flipped = ci_key[:-1] + ("A" if ci_key[-1] != "A" else "B")
    cases = {
        "altered secret": ({"X-API-Key": flipped}, "apikey_unknown"),
        "unknown id": ({"X-API-Key": f"kg_{'0' * 16}_{secret}"}, "apikey_unknown"),
        "malformed": ({"X-API-Key": "kg_nothex_short"}, "apikey_malformed"),
        "malformed bearer": ({"Authorization": "Bearer kg_x"}, "apikey_malformed"),
        "empty x-api-key": ({"X-API-Key": ""}, "apikey_malformed"),
        "both headers": ({"X-API-Key": ci_key, "Authorization": f"Bearer {ci_key}"}, "two_credentials"),
    }
    with controller.client() as c:
        for name, (headers, reason) in cases.items():
            r = c.get("/v1/jobs", headers=headers)
            assert_401(r)
            assert one_audit(controller, r, "auth.failed")["data"]["reason"] == reason, name


def test_keys_are_restricted_like_tokens(controller: ControllerProcess) -> None:
    readonly = create(controller, "--scope", "jobs:submit", "--policy", "readonly")
    with controller.client() as c:
        r = c.post("/v1/jobs", json=PARKED, headers={"X-API-Key": readonly})
        assert_envelope(r, 403, "policy_not_allowed")
        ok = c.post("/v1/jobs", json={**PARKED, "policy": "readonly", "code": "n = 1\n"},
                    headers={"X-API-Key": readonly})
        assert ok.status_code == 202, ok.text
    far = create(controller, "--scope", "jobs:read", "--cidr", "10.0.0.0/8")
    with controller.client() as c:
        r = c.get("/v1/jobs", headers={"X-API-Key": far, "X-Forwarded-For": "10.1.1.1"})
        assert_envelope(r, 403, "forbidden")
        assert one_audit(controller, r, "auth.denied_network")["data"]["kind"] == "apikey"
    worker_key = create(controller, "--scope", "worker")
    w = HttpWorker(controller, worker_key, "w-apikey")
    assert w.heartbeat().status_code == 200
    assert w.client.post("/v1/jobs", json=PARKED).status_code == 403
    w.close()


def test_revocation_applies_to_the_next_request(controller: ControllerProcess) -> None:
    key = create(controller, "--scope", "jobs:read")
    with controller.client() as c:
        assert c.get("/v1/jobs", headers={"X-API-Key": key}).status_code == 200
        out = run_kitgate(["apikey", "revoke", key_id(key), *data_dir_args(controller)])
        assert out.stdout.strip() == f"revoked {key_id(key)}"
        r = c.get("/v1/jobs", headers={"X-API-Key": key})
        assert_401(r)
        assert one_audit(controller, r, "auth.failed")["data"]["reason"] == "apikey_revoked"
    assert [r["actor"] for r in audit_rows(controller, event="apikey.revoked")
            if r["data"]["key_id"] == key_id(key)] == ["cli"]
    again = run_kitgate(["apikey", "revoke", key_id(key), *data_dir_args(controller)], check=False)
    assert again.returncode == 1
    assert "revoked" in run_kitgate(["apikey", "list", *data_dir_args(controller)]).stdout


def test_expiring_keys_expire(controller: ControllerProcess) -> None:
    from kitgate.controller.db import Database
    from kitgate.controller.security.apikeys import ApiKeyStore

    db = Database(sqlite_path(controller))
    try:
        key, record = ApiKeyStore(db).issue("short-lived", ["jobs:read"], ttl_s=4)
    finally:
        db.close()
    with controller.client() as c:
        assert c.get("/v1/jobs", headers={"X-API-Key": key}).status_code == 200
        assert record.expires_at is not None
        time.sleep(max(0.0, record.expires_at - time.time()) + 0.5)
        r = c.get("/v1/jobs", headers={"X-API-Key": key})
        assert_expired_401(r, "apikey")  # the right secret, so its holder is told it expired
        assert one_audit(controller, r, "auth.failed")["data"]["reason"] == "apikey_expired"


def test_create_refuses_bad_input(controller: ControllerProcess) -> None:
    for bad in (["--scope", "root"], ["--scope", "jobs:read", "--ttl", "5s"], ["--scope", "jobs:read", "--cidr", "x"]):
        out = run_kitgate(["apikey", "create", *bad, *data_dir_args(controller)], check=False)
        assert out.returncode == 2 and out.stdout == "", (bad, out.stderr)
