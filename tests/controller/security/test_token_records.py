"""The stored token record bounds what a signed token can do, on every request, over real HTTP.

Why: a request was checked against the token's signed claims plus the row's revocation only. Whoever holds
the token-signing key could re-sign an issued token id with a 30-year expiry (or re-sign a token whose row
had expired) and be let in. The effective rights are now the intersection of the signed claims and the
stored row: the row's expiry, revocation, scopes, policies and networks are checked on every request, and
claims that promise more than the row (a later expiry, more scopes) are refused as a forgery.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import httpx
import jwt
from harness import ControllerProcess

from .helpers import assert_401, assert_envelope, assert_expired_401, audit_rows, token_key

YEAR = 365 * 86400


def resign(ctl: ControllerProcess, token: str, **changes: Any) -> str:
    """What a holder of the signing key can do: keep the issued jti and sub, change anything else."""
    payload = jwt.decode(token, options={"verify_signature": False})
    payload.update(changes)
    kid, key = token_key(ctl)
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid})


def reason_of(ctl: ControllerProcess, r: httpx.Response) -> str:
    rows = audit_rows(ctl, request_id=r.headers["x-request-id"])
    assert [row["event"] for row in rows] == ["auth.failed"], rows
    return str(rows[0]["data"]["reason"])


def update_row(ctl: ControllerProcess, token: str, sql: str, *params: Any) -> None:
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    conn = sqlite3.connect(ctl.data_dir / "kitgate.sqlite3")
    try:
        with conn:
            conn.execute(sql + " WHERE jti=?", (*params, jti))
    finally:
        conn.close()


def get(ctl: ControllerProcess, token: str, path: str = "/v1/policies") -> httpx.Response:
    with ctl.client(token) as c:
        return c.get(path)


def test_an_issued_token_re_signed_with_a_30_year_expiry_is_refused(controller) -> None:
    token = controller.mint_token("jobs:read", ttl_s=3600)
    assert get(controller, token).status_code == 200
    forged = resign(controller, token, exp=int(time.time()) + 30 * YEAR)
    r = get(controller, forged)
    assert_401(r)
    assert reason_of(controller, r) == "claims_mismatch"
    assert get(controller, token).status_code == 200  # the genuine token is unaffected


def test_a_token_whose_row_expired_cannot_be_revived_by_re_signing(controller) -> None:
    token = controller.mint_token("jobs:read", ttl_s=1)
    time.sleep(2.1)
    expired = get(controller, token)
    assert_expired_401(expired)
    assert reason_of(controller, expired) == "expired"
    revived = resign(controller, token, exp=int(time.time()) + 600)
    r = get(controller, revived)
    assert r.status_code == 401  # the record's expiry wins over the re-signed one
    assert reason_of(controller, r) == "expired"


def test_the_stored_expiry_applies_to_a_genuine_token(controller) -> None:
    """An operator (or a fix-up) shortening the row's expiry takes effect on the next request."""
    token = controller.mint_token("jobs:read", ttl_s=3600)
    assert get(controller, token).status_code == 200  # the signature result is now cached
    update_row(controller, token, "UPDATE tokens SET expires_at=?", time.time() - 1)
    r = get(controller, token)
    assert_expired_401(r)
    assert reason_of(controller, r) == "expired"


def test_claims_with_more_scopes_than_the_row_grant_nothing_more(controller) -> None:
    token = controller.mint_token("worker", ttl_s=3600)
    forged = resign(controller, token, scope="admin jobs:read jobs:submit worker")
    assert get(controller, forged, "/v1/keys").status_code == 200  # what both grant
    assert_envelope(get(controller, forged, "/v1/audit"), 403, "forbidden")
    assert_envelope(get(controller, forged, "/v1/jobs"), 403, "forbidden")


def test_rights_are_the_intersection_of_claims_and_row(controller) -> None:
    """A row widened after issue (here: straight in SQLite) grants nothing the signed claims did not."""
    token = controller.mint_token("jobs:read", ttl_s=3600)
    update_row(controller, token, "UPDATE tokens SET scopes=?", json.dumps(["admin", "jobs:read", "jobs:submit"]))
    assert_envelope(get(controller, token, "/v1/audit"), 403, "forbidden")
    with controller.client(token) as c:
        assert_envelope(c.post("/v1/jobs", json={"code": "x = 1\n"}), 403, "forbidden")
    assert get(controller, token).status_code == 200  # what both allow still works
    narrowed = controller.mint_token("jobs:read", "jobs:submit", ttl_s=3600)
    update_row(controller, narrowed, "UPDATE tokens SET scopes=?", json.dumps(["jobs:read"]))
    with controller.client(narrowed) as c:
        assert_envelope(c.post("/v1/jobs", json={"code": "x = 1\n"}), 403, "forbidden")
        assert c.get("/v1/jobs").status_code == 200


def test_the_stored_restrictions_apply_to_a_genuine_token(controller) -> None:
    token = controller.mint_token("jobs:read", "jobs:submit", ttl_s=3600)
    assert get(controller, token).status_code == 200
    update_row(controller, token, "UPDATE tokens SET policies=?", json.dumps(["readonly"]))
    names = {p["name"] for p in get(controller, token).json()["policies"]}
    assert names == {"readonly"}
    update_row(controller, token, "UPDATE tokens SET cidrs=?", json.dumps(["10.0.0.0/8"]))
    assert_envelope(get(controller, token), 403, "forbidden")
    update_row(controller, token, "UPDATE tokens SET revoked_at=?", time.time())
    assert reason_of(controller, get(controller, token)) == "revoked"


def test_a_claims_sub_or_issue_time_that_disagrees_with_the_row_is_refused(controller) -> None:
    token = controller.mint_token("jobs:read", ttl_s=3600)
    for changes in ({"sub": "admin"}, {"iat": int(time.time()) - 10 * YEAR, "nbf": int(time.time()) - 10 * YEAR}):
        r = get(controller, resign(controller, token, **changes))
        assert_401(r)
        assert reason_of(controller, r) == "claims_mismatch", changes
