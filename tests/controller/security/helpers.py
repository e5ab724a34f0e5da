"""Helpers for the service-layer tests: envelope checks, audit lookups straight from the SQLite file, and
tokens crafted with the controller's own signing key (what an attacker who stole it could mint)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from harness import ControllerProcess

UNAUTHORISED = "missing or invalid credentials"
CHALLENGE = 'Bearer realm="kitgate"'


def assert_envelope(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:500])
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details", "request_id"}, body
    err = body["error"]
    assert err["request_id"] and r.headers["x-request-id"] == err["request_id"]
    if code is not None:
        assert err["code"] == code, err
    return err


def assert_401(r: httpx.Response) -> dict[str, Any]:
    """Every credential failure looks exactly the same from outside: same code, message, details, challenge."""
    err = assert_envelope(r, 401, "unauthorized")
    assert err["message"] == UNAUTHORISED and err["details"] == {}, err
    assert r.headers["www-authenticate"] == CHALLENGE
    return err


def assert_expired_401(r: httpx.Response, credential: str = "token") -> dict[str, Any]:
    """The one 401 that says why: a genuine credential whose lifetime is over (code, fix, RFC 6750 challenge)."""
    err = assert_envelope(r, 401, "token_expired")
    command = "kitgate apikey create" if credential == "apikey" else "kitgate token create"
    assert "expired" in err["message"] and command in err["message"], err
    assert err["details"] == {"credential": credential}, err
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith(CHALLENGE) and 'error="invalid_token"' in challenge, challenge
    return err


def audit_rows(ctl: ControllerProcess, **where: Any) -> list[dict[str, Any]]:
    """Audit records read from the SQLite file itself (not through the API under test)."""
    conn = sqlite3.connect(f"file:{ctl.data_dir / 'kitgate.sqlite3'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        sql = "SELECT * FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(f"{k} = ?" for k in where)
        rows = conn.execute(sql + " ORDER BY seq", list(where.values())).fetchall()
    finally:
        conn.close()
    return [{**dict(r), "data": json.loads(r["data"])} for r in rows]


def audit_for(ctl: ControllerProcess, r: httpx.Response) -> list[dict[str, Any]]:
    return audit_rows(ctl, request_id=r.headers["x-request-id"])


def one_audit(ctl: ControllerProcess, r: httpx.Response, event: str) -> dict[str, Any]:
    rows = audit_for(ctl, r)
    assert [row["event"] for row in rows] == [event], rows
    return rows[0]


def token_key(ctl: ControllerProcess) -> tuple[str, Ed25519PrivateKey]:
    """The newest token-signing key of the controller's data dir, and its kid."""
    path = sorted((ctl.data_dir / "keys").glob("token-*.pem"))[-1]
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return path.stem.split("-", 2)[2], key


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"iss": "kitgate", "aud": "kitgate-api", "sub": "crafted", "jti": uuid.uuid4().hex,
                            "iat": now, "nbf": now, "exp": now + 600, "scope": "admin jobs:read jobs:submit"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def craft(ctl: ControllerProcess, headers: dict[str, Any] | None = None, **overrides: Any) -> str:
    kid, key = token_key(ctl)
    return jwt.encode(claims(**overrides), key, algorithm="EdDSA", headers={"kid": kid, **(headers or {})})


def jti_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


def data_dir_args(ctl: ControllerProcess) -> list[str]:
    return ["--data-dir", str(ctl.data_dir)]


def sqlite_path(ctl: ControllerProcess) -> Path:
    return ctl.data_dir / "kitgate.sqlite3"
