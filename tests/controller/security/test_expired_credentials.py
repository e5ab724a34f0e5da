"""An expired credential tells its holder so; every other refusal stays the one generic 401.

Why: a user whose token ran out saw "missing or invalid credentials" and could not tell an expiry from a
typo. The 401 may now say THAT a credential expired (code `token_expired`), and only when the controller
proved the credential genuine first: signature verified with our key, an issued record, not revoked. A
forged token with an `exp` in the past (bad signature, foreign key, alg none, unknown id, tampered
payload) must learn nothing: it is the generic 401 like any other failure, its reason only in the audit.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from harness import ControllerProcess, clean_env, run_kitgate

from .helpers import assert_401, assert_expired_401, audit_rows, claims, craft, sqlite_path, token_key

PAST = {"exp": -120, "iat": -600, "nbf": -600}  # seconds relative to now


def past(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {**{k: now + v for k, v in PAST.items()}, **extra}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def expire_row(ctl: ControllerProcess, table: str, ident_col: str, ident: str) -> None:
    conn = sqlite3.connect(sqlite_path(ctl))
    try:
        with conn:
            conn.execute(f"UPDATE {table} SET expires_at=? WHERE {ident_col}=?", (time.time() - 1, ident))
    finally:
        conn.close()


def payload_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def reason_of(ctl: ControllerProcess, r: httpx.Response) -> str:
    rows = audit_rows(ctl, request_id=r.headers["x-request-id"])
    assert [row["event"] for row in rows] == ["auth.failed"], rows
    return str(rows[0]["data"]["reason"])


def get(ctl: ControllerProcess, headers: dict[str, str]) -> httpx.Response:
    with ctl.client() as c:
        return c.get("/v1/jobs", headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- the holder of a genuine credential is told ------------------------------------------------------------
def test_a_genuine_token_that_ran_out_says_expired(controller: ControllerProcess) -> None:
    token = controller.mint_token("jobs:read", ttl_s=2)
    assert get(controller, bearer(token)).status_code == 200  # verified (and cached) while valid
    time.sleep(max(0.0, payload_of(token)["exp"] - time.time()) + 1.1)
    r = get(controller, bearer(token))
    assert_expired_401(r)
    assert reason_of(controller, r) == "expired"


def test_a_token_whose_record_was_shortened_says_expired(controller: ControllerProcess) -> None:
    token = controller.mint_token("jobs:read", ttl_s=3600)
    expire_row(controller, "tokens", "jti", payload_of(token)["jti"])
    r = get(controller, bearer(token))
    assert_expired_401(r)
    assert reason_of(controller, r) == "expired"


def test_an_api_key_that_ran_out_says_expired(controller: ControllerProcess) -> None:
    key = run_kitgate(["apikey", "create", "--scope", "jobs:read", "--data-dir", str(controller.data_dir)]
                      ).stdout.strip().splitlines()[-1].strip()
    assert key.startswith("kg_")
    assert get(controller, {"X-API-Key": key}).status_code == 200
    expire_row(controller, "apikeys", "id", key.split("_")[1])
    for headers in ({"X-API-Key": key}, bearer(key)):
        r = get(controller, headers)
        assert_expired_401(r, "apikey")
        assert reason_of(controller, r) == "apikey_expired"


# ---- a forger with an exp in the past learns nothing ---------------------------------------------------------
def forged_expired_tokens(ctl: ControllerProcess, real_expired: str) -> dict[str, tuple[str, str]]:
    """name -> (token, audited reason): each has an `exp` in the past and is not a genuine credential."""
    kid, key = token_key(ctl)
    other = Ed25519PrivateKey.generate()
    real = payload_of(real_expired)
    header, payload, sig = real_expired.split(".")
    widened = {**real, "scope": "admin"}
    return {
        "foreign key, our kid, a real expired jti": (
            jwt.encode(claims(**past(jti=real["jti"], sub=real["sub"])), other, algorithm="EdDSA",
                       headers={"kid": kid}), "bad_signature"),
        "foreign key, unknown kid": (
            jwt.encode(claims(**past()), other, algorithm="EdDSA", headers={"kid": "f" * 16}), "unknown_key"),
        "alg none, our kid": (
            f"{b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}."
            f"{b64(json.dumps(claims(**past())).encode())}.", "wrong_algorithm"),
        "the real expired token, payload widened": (
            f"{header}.{b64(json.dumps(widened).encode())}.{sig}", "bad_signature"),
        "the real expired token, one signature byte changed": (
            f"{header}.{payload}.{sig[:10]}{'B' if sig[10] == 'A' else 'A'}{sig[11:]}", "bad_signature"),
        "our key, never issued": (craft(ctl, **past()), "unknown_token"),
        "our key, a real jti under another subject": (
            craft(ctl, **past(jti=real["jti"], sub="admin")), "claims_mismatch"),
    }


def test_forged_tokens_with_a_past_exp_get_the_generic_401(controller: ControllerProcess) -> None:
    real = controller.mint_token("jobs:read", ttl_s=3600)
    expire_row(controller, "tokens", "jti", payload_of(real)["jti"])
    assert_expired_401(get(controller, bearer(real)))  # the genuine one IS told
    for name, (token, reason) in forged_expired_tokens(controller, real).items():
        r = get(controller, bearer(token))
        assert_401(r)
        assert "expired" not in r.text.lower() and "expired" not in r.headers["www-authenticate"], name
        assert reason_of(controller, r) == reason, name


def test_a_revoked_token_that_also_expired_stays_generic(controller: ControllerProcess) -> None:
    """Revocation is the operator's word: it is not turned into "expired" when both apply."""
    token = controller.mint_token("jobs:read", ttl_s=3600)
    jti = payload_of(token)["jti"]
    run_kitgate(["token", "revoke", jti, "--data-dir", str(controller.data_dir)])
    expire_row(controller, "tokens", "jti", jti)
    r = get(controller, bearer(token))
    assert_401(r)
    assert reason_of(controller, r) == "revoked"


def test_an_expired_api_key_with_a_wrong_secret_stays_generic(controller: ControllerProcess) -> None:
    key = run_kitgate(["apikey", "create", "--scope", "jobs:read", "--data-dir", str(controller.data_dir)]
                      ).stdout.strip().splitlines()[-1].strip()
    expire_row(controller, "apikeys", "id", key.split("_")[1])
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    r = get(controller, {"X-API-Key": wrong})
    assert_401(r)
    assert reason_of(controller, r) == "apikey_unknown"


# ---- the SDK and the CLI surface it readably ------------------------------------------------------------------
def test_the_sdk_raises_token_expired(controller: ControllerProcess) -> None:
    from kitgate.client.errors import AuthError, TokenExpired
    from kitgate.client.sdk import KitgateClient

    token = controller.mint_token("jobs:read", ttl_s=3600)
    expire_row(controller, "tokens", "jti", payload_of(token)["jti"])
    with KitgateClient(controller.url, token=token) as client, pytest.raises(TokenExpired) as caught:
        client.list_jobs()
    assert isinstance(caught.value, AuthError) and caught.value.code == "token_expired"
    assert "expired" in str(caught.value)


def test_the_cli_says_the_token_expired_and_how_to_get_a_new_one(controller: ControllerProcess,
                                                                  tmp_path: Path) -> None:
    token = controller.mint_token("jobs:read", ttl_s=3600)
    expire_row(controller, "tokens", "jti", payload_of(token)["jti"])
    token_file = tmp_path / "client.token"
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    env = clean_env({"KITGATE_URL": controller.url, "KITGATE_TOKEN_FILE": str(token_file)})
    proc = run_kitgate(["jobs", "list"], env=env, check=False)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "your token expired" in lines[0] and "kitgate token create" in lines[0], lines[0]
    forged = craft(controller, **past())  # a token that never was ours: no "expired" here
    token_file.write_text(forged + "\n")
    proc = run_kitgate(["jobs", "list"], env=env, check=False)
    assert proc.returncode == 2 and "expired" not in proc.stderr, proc.stderr
