"""The audit trail over real HTTP and on disk: what is recorded, GET /v1/audit, and `kitgate audit verify`
against records edited, deleted, reordered or cut off by editing the SQLite file directly."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from harness import ControllerProcess, HttpWorker, run_kitgate

from .helpers import assert_envelope, audit_rows, one_audit

SCRIPT = "marker = 'AUDIT-CODE-MARKER'\n"


def approval_policies(tmp: Path) -> Path:
    from kitgate.sandbox.policy import list_policies

    policy_dir = tmp / "policies"
    policy_dir.mkdir(exist_ok=True)
    source = ""
    for p in list_policies():
        (policy_dir / f"{p.name}.toml").write_text(p.source)
        if p.name == "scene-edit":
            source = p.source
    lines = ['name = "needs-approval"' if ln.startswith("name") else ln for ln in source.splitlines()
             if not ln.startswith("requires_approval")]
    lines.insert(1, "requires_approval = true")
    (policy_dir / "needs-approval.toml").write_text("\n".join(lines) + "\n")
    return policy_dir


@pytest.fixture(scope="module")
def ctl(controller_factory, tmp_path_factory) -> ControllerProcess:
    policy_dir = approval_policies(tmp_path_factory.mktemp("audit-policies"))
    return controller_factory({"KITGATE_POLICY_DIR": str(policy_dir)}, name="audit")


@pytest.fixture(scope="module")
def story(ctl: ControllerProcess) -> dict[str, str]:
    """One of everything: validate, refuse, submit, approve, claim, report, token ops."""
    op_token = ctl.mint_token("jobs:submit", "jobs:read", sub="auditor-op")
    worker = HttpWorker(ctl, ctl.mint_token("worker", sub="auditor-worker"), "w-audit")
    with ctl.client(op_token) as op, ctl.admin() as admin:
        valid = op.post("/v1/validate", json={"code": SCRIPT})
        assert valid.status_code == 200 and valid.json()["ok"]
        refused = op.post("/v1/jobs", json={"code": "import socket\n"})
        assert refused.status_code == 422
        job = op.post("/v1/jobs", json={"code": SCRIPT, "policy": "needs-approval"}).json()
        assert job["status"] == "pending_approval"
        approved = admin.post(f"/v1/jobs/{job['id']}/approve")
        assert approved.status_code == 200
        claim = worker.claim()
        assert claim is not None and claim["job_id"] == job["id"]
        assert worker.report(claim).status_code == 200
        denied = op.get("/v1/audit")
    worker.close()
    token = run_kitgate(["token", "create", "--scope", "jobs:read", "--sub", "audited-token",
                         "--data-dir", str(ctl.data_dir)]).stdout.strip()
    jti = json.loads(run_kitgate(["token", "list", "--json", "--data-dir", str(ctl.data_dir)]).stdout)[-1]["jti"]
    run_kitgate(["token", "revoke", jti, "--data-dir", str(ctl.data_dir)])
    return {"job_id": job["id"], "valid_rid": valid.headers["x-request-id"],
            "approve_rid": approved.headers["x-request-id"], "denied_rid": denied.headers["x-request-id"],
            "token": token, "jti": jti}


def test_every_decision_is_recorded(ctl: ControllerProcess, story: dict[str, str]) -> None:
    rows = audit_rows(ctl)
    by_event: dict[str, list[dict]] = {}
    for r in rows:
        by_event.setdefault(r["event"], []).append(r)
    sha = hashlib.sha256(SCRIPT.encode()).hexdigest()
    validated = one_of(by_event["code_validated"], request_id=story["valid_rid"])
    assert validated["actor"] == "auditor-op" and validated["data"]["ok"] is True
    assert validated["data"]["code_sha256"] == sha and validated["ip"] == "127.0.0.1"
    assert by_event["job_refused"][0]["data"]["violations"] >= 1
    submitted = [r for r in by_event["job_submitted"] if r["data"]["job_id"] == story["job_id"]]
    assert submitted[0]["data"]["code_sha256"] == sha and submitted[0]["data"]["status"] == "pending_approval"
    approved = one_of(by_event["job_approved"], request_id=story["approve_rid"])
    assert approved["actor"] == "admin" and approved["data"]["job_id"] == story["job_id"]
    claimed = by_event["job_claimed"][0]
    assert claimed["actor"] == "auditor-worker" and claimed["data"]["worker_id"] == "w-audit"
    assert by_event["job_reported"][0]["data"]["status"] == "succeeded"
    assert one_of(by_event["auth.denied_scope"], request_id=story["denied_rid"])["actor"] == "auditor-op"
    created = [r for r in by_event["token.created"] if r["data"]["sub"] == "audited-token"]
    assert len(created) == 1 and created[0]["data"]["token_id"] == story["jti"]
    assert [r["data"]["token_id"] for r in by_event["token.revoked"]] == [story["jti"]]
    dump = json.dumps(rows)
    assert "AUDIT-CODE-MARKER" not in dump and "import socket" not in dump  # hashes, not code
    assert story["token"].split(".")[2] not in dump  # never a credential


def one_of(rows: list[dict], **match: str) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def test_code_is_kept_only_when_configured(controller_factory) -> None:
    keeper = controller_factory({"KITGATE_STORE_CODE_IN_AUDIT": "true"}, name="keepcode")
    with keeper.client(keeper.mint_token("jobs:submit")) as op:
        r = op.post("/v1/jobs", json={"code": SCRIPT, "labels": ["nobody"]})
        assert r.status_code == 202
    assert one_audit(keeper, r, "job_submitted")["data"]["code"] == SCRIPT


def test_audit_endpoint_is_admin_only_with_filters(ctl: ControllerProcess, story: dict[str, str]) -> None:
    for scopes in (("jobs:submit", "jobs:read"), ("worker",), ("jobs:read",)):
        with ctl.client(ctl.mint_token(*scopes)) as c:
            r = c.get("/v1/audit")
            assert_envelope(r, 403, "forbidden")
            assert one_audit(ctl, r, "auth.denied_scope")["data"]["needed"] == ["admin"]
    with ctl.admin() as admin:
        everything = admin.get("/v1/audit", params={"limit": 1000}).json()
        records = everything["records"]
        assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
        assert everything["head"]["seq"] >= records[-1]["seq"]
        only = admin.get("/v1/audit", params={"event": "job_claimed"}).json()["records"]
        assert only and {r["event"] for r in only} == {"job_claimed"}
        mine = admin.get("/v1/audit", params={"actor": "auditor-op"}).json()["records"]
        assert mine and {r["actor"] for r in mine} == {"auditor-op"}
        by_rid = admin.get("/v1/audit", params={"request_id": story["approve_rid"]}).json()["records"]
        assert [r["event"] for r in by_rid] == ["job_approved"]
        page = admin.get("/v1/audit", params={"limit": 2, "since_seq": 1}).json()
        assert [r["seq"] for r in page["records"]] == [2, 3] and page["next_seq"] == 3
        later = admin.get("/v1/audit", params={"since_ts": records[-1]["ts"]}).json()["records"]
        assert later and all(r["ts"] >= records[-1]["ts"] for r in later)
        assert admin.get("/v1/audit", params={"since_ts": time.time() + 3600}).json()["records"] == []
        for bad in ({"event": "x y"}, {"limit": 0}, {"limit": 5000}, {"since_seq": -1}, {"request_id": "a" * 65}):
            assert_envelope(admin.get("/v1/audit", params=bad), 422)


# ---- tamper evidence -----------------------------------------------------------------------------

def verify(data_dir: Path, *extra: str):
    return run_kitgate(["audit", "verify", "--data-dir", str(data_dir), *extra], check=False)


@pytest.fixture(scope="module")
def pristine(ctl: ControllerProcess, story: dict[str, str], tmp_path_factory) -> Path:
    """A stopped copy of the data dir with a known-good chain."""
    ctl.stop()
    copy = tmp_path_factory.mktemp("audit-copy") / "data"
    shutil.copytree(ctl.data_dir, copy)
    ctl.start()
    return copy


@pytest.fixture()
def tampered(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(pristine, copy)
    return copy


def sql(data_dir: Path, *statements: str) -> None:
    conn = sqlite3.connect(data_dir / "kitgate.sqlite3", isolation_level=None)
    try:
        for s in statements:
            conn.execute(s)
    finally:
        conn.close()


def rows_of(data_dir: Path) -> list[tuple]:
    conn = sqlite3.connect(data_dir / "kitgate.sqlite3")
    try:
        return conn.execute("SELECT seq, ts, event, actor, ip, request_id, data, prev_hash, hash FROM audit "
                            "ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_an_intact_chain_verifies(pristine: Path) -> None:
    out = verify(pristine)
    assert out.returncode == 0, out.stderr
    assert f"audit chain intact: {len(rows_of(pristine))} records" in out.stdout


def test_an_edited_record_is_detected(tampered: Path) -> None:
    sql(tampered, "UPDATE audit SET actor = 'someone-else' WHERE seq = 3")
    out = verify(tampered)
    assert out.returncode == 1 and "BROKEN at record 3" in out.stderr and "does not match its hash" in out.stderr


def test_an_edited_payload_is_detected(tampered: Path) -> None:
    sql(tampered, "UPDATE audit SET data = replace(data, 'succeeded', 'failed') WHERE event = 'job_reported'")
    out = verify(tampered)
    assert out.returncode == 1 and "does not match its hash" in out.stderr


def test_a_deleted_record_is_detected(tampered: Path) -> None:
    sql(tampered, "DELETE FROM audit WHERE seq = 4")
    out = verify(tampered)
    assert out.returncode == 1 and "record 4 is missing" in out.stderr


def test_a_deleted_and_renumbered_record_is_detected(tampered: Path) -> None:
    """Closing the gap (renumbering) leaves the next record linked to a hash that is no longer there."""
    sql(tampered, "DELETE FROM audit WHERE seq = 4", "UPDATE audit SET seq = seq - 1 WHERE seq > 4")
    out = verify(tampered)
    assert out.returncode == 1 and "BROKEN at record 4" in out.stderr


def test_reordered_records_are_detected(tampered: Path) -> None:
    rows = {r[0]: r for r in rows_of(tampered)}
    a, b = rows[3], rows[4]
    sql(tampered, "DELETE FROM audit WHERE seq IN (3, 4)")
    conn = sqlite3.connect(tampered / "kitgate.sqlite3", isolation_level=None)
    conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)", (3, *b[1:]))
    conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)", (4, *a[1:]))
    conn.close()
    out = verify(tampered)
    assert out.returncode == 1 and "BROKEN at record 3" in out.stderr


def test_cutting_off_the_last_records_is_detected(tampered: Path) -> None:
    last = len(rows_of(tampered))
    assert f"{last:020d}" in (tampered / "audit.head").read_text()
    sql(tampered, f"DELETE FROM audit WHERE seq > {last - 2}")
    out = verify(tampered)
    assert out.returncode == 1 and "records were cut off" in out.stderr
    (tampered / "audit.head").unlink()  # ... and removing the anchor too is noticed
    out = verify(tampered)
    assert out.returncode == 1 and "head anchor audit.head is missing" in out.stderr
    (tampered / "audit.head").write_text("garbage")
    out = verify(tampered)
    assert out.returncode == 1 and "unreadable" in out.stderr


def test_a_consistently_rewritten_chain_is_caught_by_a_head_kept_elsewhere(tampered: Path) -> None:
    """Residual risk, shown: whoever can write the whole data dir can recompute every hash and the anchor.
    A head copied out of the data dir earlier (GET /v1/audit's `head`) still catches it."""
    from kitgate.controller.security.audit import _ANCHOR_LINE, record_digest

    rows = rows_of(tampered)
    kept_head = f"{rows[-1][0]}:{rows[-1][8]}"
    prev = "0" * 64
    conn = sqlite3.connect(tampered / "kitgate.sqlite3", isolation_level=None)
    for seq, ts, event, actor, ip, rid, data, _prev, _hash in rows:
        if event == "job_reported":
            data = data.replace("succeeded", "failed")
        digest = record_digest(prev, seq, ts, event, actor, ip, rid, data)
        conn.execute("UPDATE audit SET data=?, prev_hash=?, hash=? WHERE seq=?", (data, prev, digest, seq))
        prev = digest
    conn.close()
    (tampered / "audit.head").write_text(_ANCHOR_LINE.format(seq=rows[-1][0], digest=prev))
    assert verify(tampered).returncode == 0  # the forgery is self-consistent
    out = verify(tampered, "--expect-head", kept_head)
    assert out.returncode == 1 and "history was rewritten" in out.stderr
    assert verify(tampered, "--expect-head", "nonsense").returncode == 2


def test_head_from_the_api_matches_the_cli(ctl: ControllerProcess) -> None:
    with ctl.admin() as admin:
        head = admin.get("/v1/audit", params={"limit": 1}).json()["head"]
    out = verify(ctl.data_dir, "--expect-head", f"{head['seq']}:{head['hash']}")
    assert out.returncode == 0, out.stderr
