"""Bearer tokens over real HTTP: every bad token is the same 401 outside, its own reason in the audit trail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from harness import ControllerProcess, run_kitgate

from .helpers import (
    CHALLENGE,
    UNAUTHORISED,
    assert_401,
    assert_expired_401,
    audit_rows,
    claims,
    craft,
    data_dir_args,
    jti_of,
    one_audit,
    token_key,
)

REASON_WORDS = ("expired", "revoked", "audience", "issuer", "algorithm", "signature", "kid", "key", "claim")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


def hs256_with(secret: bytes, header: dict, payload: dict) -> str:
    """HS256 keyed with the verifier's public key: the classic algorithm-confusion forgery."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def bad_tokens(ctl: ControllerProcess) -> dict[str, tuple[dict[str, str], str]]:
    """name -> (request headers, the reason the audit trail must record)."""
    kid, key = token_key(ctl)
    public = key.public_key()
    raw_pub = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem_pub = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    other_ed = Ed25519PrivateKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {
        "missing": ({}, "missing"),
        "empty": ({"Authorization": ""}, "missing"),
        "basic scheme": ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "malformed"),
        "bearer without token": ({"Authorization": "Bearer"}, "malformed"),
        "two words": ({"Authorization": "Bearer a b"}, "malformed"),
        "not a jwt": (bearer("not-a-jwt"), "malformed"),
        "garbage segments": (bearer("eyJhbGciOi.xxx.yyy"), "malformed"),
        "oversized": (bearer("a." * 3000 + "a"), "malformed"),
        # signed with our key but never issued: a past `exp` does not make it "expired" (only a genuine
        # token's holder is told that; see test_expired_credentials.py)
        "expired but never issued": (bearer(craft(ctl, exp=int(time.time()) - 120, iat=int(time.time()) - 600,
                                                  nbf=int(time.time()) - 600)), "unknown_token"),
        "not yet valid": (bearer(craft(ctl, nbf=int(time.time()) + 3600)), "not_yet_valid"),
        "wrong audience": (bearer(craft(ctl, aud="some-other-api")), "wrong_audience"),
        "wrong issuer": (bearer(craft(ctl, iss="evil")), "wrong_issuer"),
        "no jti": (bearer(craft(ctl, jti=None)), "missing_claim"),
        "no exp": (bearer(craft(ctl, exp=None)), "missing_claim"),
        "alg none": (bearer(unsigned({"alg": "none", "typ": "JWT", "kid": kid}, claims())), "wrong_algorithm"),
        "alg None spelled": (bearer(unsigned({"alg": "None", "kid": kid}, claims())), "wrong_algorithm"),
        "HS256 keyed with raw public key": (
            bearer(hs256_with(raw_pub, {"alg": "HS256", "typ": "JWT", "kid": kid}, claims())), "wrong_algorithm"),
        "HS256 keyed with PEM public key": (
            bearer(hs256_with(pem_pub, {"alg": "HS256", "typ": "JWT", "kid": kid}, claims())), "wrong_algorithm"),
        "RS256 with our kid": (bearer(jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": kid})),
                               "wrong_algorithm"),
        "ES256 with our kid": (bearer(jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": kid})),
                               "wrong_algorithm"),
        "foreign Ed25519 key, our kid": (
            bearer(jwt.encode(claims(), other_ed, algorithm="EdDSA", headers={"kid": kid})), "bad_signature"),
        "unknown kid": (bearer(jwt.encode(claims(), other_ed, algorithm="EdDSA", headers={"kid": "f" * 16})),
                        "unknown_key"),
        "no kid": (bearer(jwt.encode(claims(), key, algorithm="EdDSA")), "unknown_key"),
        "signed with our key but never issued": (bearer(craft(ctl)), "unknown_token"),
        "tampered payload": (bearer(_tamper(ctl.mint_token("jobs:read"))), "bad_signature"),
    }


def _tamper(token: str) -> str:
    header, payload, sig = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["scope"] = "admin"
    return f"{header}.{b64(json.dumps(body).encode())}.{sig}"


def test_every_bad_token_is_the_same_401_and_its_reason_is_audited(controller: ControllerProcess) -> None:
    cases = bad_tokens(controller)
    seen: set[tuple[str, str, str]] = set()
    with controller.client() as anon:
        for name, (headers, reason) in cases.items():
            r = anon.get("/v1/jobs", headers=headers)
            err = assert_401(r)
            seen.add((err["code"], err["message"], json.dumps(err["details"])))
            assert not any(word in r.text.lower() for word in REASON_WORDS), (name, r.text)
            record = one_audit(controller, r, "auth.failed")
            assert record["data"]["reason"] == reason, (name, record)
            assert record["ip"] == "127.0.0.1" and record["data"]["path"] == "/v1/jobs" and record["actor"] is None
    assert seen == {("unauthorized", UNAUTHORISED, "{}")}  # nothing distinguishes one failure from another


def test_a_really_expired_token(controller: ControllerProcess) -> None:
    token = controller.mint_token("jobs:read", ttl_s=4)  # long enough for the first request on a busy machine
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    with controller.client(token) as c:
        assert c.get("/v1/jobs").status_code == 200  # verified once (and cached) while valid
        time.sleep(max(0.0, exp - time.time()) + 1.2)
        r = c.get("/v1/jobs")
        assert_expired_401(r)  # its holder is told, and how to get a new one
        assert one_audit(controller, r, "auth.failed")["data"]["reason"] == "expired"


def test_claims_must_match_the_issued_record(controller: ControllerProcess) -> None:
    """Even with the signing key, an issued jti cannot be re-minted under another identity."""
    real = controller.mint_token("jobs:read")
    forged = craft(controller, jti=jti_of(real), sub="admin")
    with controller.client(forged) as c:
        r = c.get("/v1/jobs")
        assert_401(r)
        assert one_audit(controller, r, "auth.failed")["data"]["reason"] == "claims_mismatch"


def test_scopes_come_from_the_record_not_the_token(controller: ControllerProcess) -> None:
    """The JWT's scope claim is informational: a reader token stays a reader whatever it says."""
    reader = controller.mint_token("jobs:read")
    kid, key = token_key(controller)
    payload = jwt.decode(reader, options={"verify_signature": False})
    payload["scope"] = "admin jobs:submit jobs:read worker"
    elevated = jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid})
    with controller.client(elevated) as c:
        assert c.get("/v1/jobs").status_code == 200
        assert c.post("/v1/jobs", json={"code": "x = 1\n"}).status_code == 403
        assert c.get("/v1/audit").status_code == 403


def test_revocation_applies_to_the_next_request(controller: ControllerProcess) -> None:
    token = controller.mint_token("jobs:submit", "jobs:read", sub="to-be-revoked")
    jti = jti_of(token)
    with controller.client(token) as c:
        assert c.get("/v1/jobs").status_code == 200
        out = run_kitgate(["token", "revoke", jti, *data_dir_args(controller)])
        assert out.stdout.strip() == f"revoked {jti}"
        r = c.get("/v1/jobs")  # same keep-alive connection, no restart, no cache to wait out
        assert_401(r)
        assert one_audit(controller, r, "auth.failed")["data"]["reason"] == "revoked"
    listed = json.loads(run_kitgate(["token", "list", "--json", *data_dir_args(controller)]).stdout)
    mine = next(t for t in listed if t["jti"] == jti)
    assert mine["revoked_at"] is not None and mine["sub"] == "to-be-revoked"
    assert token not in json.dumps(listed)
    again = run_kitgate(["token", "revoke", jti, *data_dir_args(controller)], check=False)
    assert again.returncode == 1 and "no active token" in again.stderr
    ops = [r for r in audit_rows(controller, event="token.revoked") if r["data"]["token_id"] == jti]
    assert len(ops) == 1 and ops[0]["actor"] == "cli"


def test_token_create_cli_validates_and_audits(controller: ControllerProcess) -> None:
    args = data_dir_args(controller)
    token = run_kitgate(["token", "create", "--scope", "jobs:read", "--ttl", "1h", "--sub", "ci-reader",
                         "--policy", "readonly", "--cidr", "127.0.0.0/8", *args]).stdout.strip()
    assert token.count(".") == 2
    with controller.client(token) as c:
        assert c.get("/v1/jobs").status_code == 200
    created = [r for r in audit_rows(controller, event="token.created") if r["data"]["sub"] == "ci-reader"]
    assert len(created) == 1 and created[0]["data"]["cidrs"] == ["127.0.0.0/8"]
    assert token.split(".")[2] not in json.dumps(created)  # the secret part never reaches the trail
    for bad in (["--scope", "root"], ["--scope", "jobs:read", "--ttl", "10s"], ["--scope", "jobs:read", "--cidr", "x"],
                ["--scope", "jobs:read", "--sub", "has space"]):
        out = run_kitgate(["token", "create", *bad, *args], check=False)
        assert out.returncode == 2 and out.stdout == "", (bad, out)


def test_key_rotation_keeps_old_tokens_valid(controller_factory) -> None:
    ctl = controller_factory(name="rotation")
    args = data_dir_args(ctl)
    old = ctl.mint_token("jobs:read")
    old_kid = jwt.get_unverified_header(old)["kid"]
    out = run_kitgate(["keys", "rotate", "token", *args]).stdout
    new_kid = out.strip().rsplit(" ", 1)[1]
    assert new_kid != old_kid
    new = run_kitgate(["token", "create", "--scope", "jobs:read", *args]).stdout.strip()
    assert jwt.get_unverified_header(new)["kid"] == new_kid
    time.sleep(2.1)  # the controller re-reads the key dir on an unknown kid at most every 2 s
    for token in (old, new):  # no restart needed to verify tokens signed by the new key
        with ctl.client(token) as c:
            assert c.get("/v1/jobs").status_code == 200
    ctl.restart()
    for token in (old, new, ctl.admin_token):
        with ctl.client(token) as c:
            assert c.get("/v1/jobs").status_code == 200
    keys = json.loads(run_kitgate(["keys", "list", "--json", *args]).stdout)
    token_keys = [k for k in keys if k["purpose"] == "token"]
    assert [k["kid"] for k in token_keys] == [old_kid, new_kid] and token_keys[-1]["active"]
    assert [r["data"]["kid"] for r in audit_rows(ctl, event="key.rotated")] == [new_kid]
    # retiring the old key (removing its file) is what ends its tokens
    next((ctl.data_dir / "keys").glob(f"token-*-{old_kid}.pem")).unlink()
    ctl.restart()
    with ctl.client(old) as c:
        assert_401(c.get("/v1/jobs"))
    with ctl.client(new) as c:
        assert c.get("/v1/jobs").status_code == 200


def test_first_admin_token_is_private_and_never_logged(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_LOG_LEVEL": "debug"}, name="firstadmin")
    admin_file = ctl.data_dir / "admin.token"
    assert stat.S_IMODE(os.stat(admin_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(ctl.data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(ctl.data_dir / "keys").st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in (ctl.data_dir / "keys").glob("*.pem"))
    token = ctl.admin_token
    with ctl.admin() as admin:
        assert admin.get("/v1/audit").status_code == 200
        assert admin.get("/v1/jobs", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    ctl.restart()  # a restart neither logs nor replaces it
    assert ctl.admin_token == token
    logs = ctl.logs()
    assert "request" in logs  # debug logging was really on
    for part in (token, token.split(".")[2], token.split(".")[1]):
        assert part not in logs
    dump = "\n".join(json.dumps(r) for r in audit_rows(ctl))
    assert token.split(".")[2] not in dump
    admins = [t for t in json.loads(run_kitgate(["token", "list", "--json", *data_dir_args(ctl)]).stdout)
              if "admin" in t["scopes"]]
    assert len(admins) == 1


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/policies", "/v1/audit", "/v1/keys", "/v1/workers", "/last_status"])
def test_401s_carry_the_challenge_everywhere(controller: ControllerProcess, path: str) -> None:
    with controller.client() as anon:
        r = anon.get(path, headers={"Authorization": f"Bearer {uuid.uuid4().hex}"})
        assert_401(r)
        assert r.headers["www-authenticate"] == CHALLENGE
