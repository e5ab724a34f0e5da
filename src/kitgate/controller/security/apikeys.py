"""Static API keys for CI: `kg_<id>_<secret>`, shown once, stored only as a SHA-256 digest.

The secret carries 256 bits of randomness, so a fast digest is enough (nothing to brute-force); the
digest comparison is constant-time, and an unknown id costs the same digest-and-compare as a known one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from kitgate.controller.db import Database
from kitgate.controller.security.principal import Principal
from kitgate.controller.security.tokens import AuthFailure, checked_scopes

PREFIX = "kg_"
_SHAPE = re.compile(r"^kg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_DUMMY_DIGEST = "0" * 64
_DDL = [
    """CREATE TABLE apikeys (
        id TEXT PRIMARY KEY, sub TEXT NOT NULL, scopes TEXT NOT NULL, policies TEXT, cidrs TEXT,
        digest TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL, revoked_at REAL)""",
]


def looks_like_apikey(credential: str) -> bool:
    return credential.startswith(PREFIX)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    sub: str
    scopes: list[str]
    policies: list[str] | None
    cidrs: list[str] | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    def public_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def record_from_row(row: Any) -> ApiKeyRecord:
    """An apikeys row (SQLite or PostgreSQL: same columns, JSON lists as text) as an ApiKeyRecord."""
    return ApiKeyRecord(
        id=row["id"], sub=row["sub"], scopes=json.loads(row["scopes"]),
        policies=json.loads(row["policies"]) if row["policies"] else None,
        cidrs=json.loads(row["cidrs"]) if row["cidrs"] else None,
        created_at=row["created_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
    )


_row = record_from_row

# the INSERT both engines run (placeholders differ: "?" for SQLite, "%s" for PostgreSQL)
INSERT_COLUMNS = "id, sub, scopes, policies, cidrs, digest, created_at, expires_at"


def new_key(sub: str, scopes: list[str], *, ttl_s: int | None, policies: list[str] | None,
            cidrs: list[str] | None, now: float) -> tuple[str, str, tuple[object, ...]]:
    """(key, key id, row in INSERT_COLUMNS order) for a new key. ValueError for an unknown scope."""
    scopes = checked_scopes(scopes)
    key_id = secrets.token_hex(8)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = (key_id, sub, json.dumps(scopes), json.dumps(policies) if policies else None,
           json.dumps(cidrs) if cidrs else None, _digest(key), now, now + ttl_s if ttl_s else None)
    return key, key_id, row


def key_id_of(key: str) -> str:
    """The id part of a well-shaped key; AuthFailure("apikey_malformed") for anything else."""
    match = _SHAPE.match(key)
    if not match:
        raise AuthFailure("apikey_malformed")
    return match.group(1)


def principal_for(key: str, row: Any | None, now: float) -> tuple[Principal, ApiKeyRecord]:
    """The checks after the row lookup: the digest (constant-time, and as costly for an unknown id), then
    revocation and expiry. `row` is the apikeys row of `key_id_of(key)`, or None."""
    stored = row["digest"] if row is not None else _DUMMY_DIGEST
    if not hmac.compare_digest(stored, _digest(key)) or row is None:
        raise AuthFailure("apikey_unknown")
    record = record_from_row(row)
    if record.revoked_at is not None:
        raise AuthFailure("apikey_revoked")
    if record.expires_at is not None and record.expires_at <= now:
        raise AuthFailure("apikey_expired")  # told to the caller: only reached with the right secret
    principal = Principal(
        sub=record.sub, kind="apikey", scopes=frozenset(record.scopes),
        policies=frozenset(record.policies) if record.policies else None, token_id=record.id,
    )
    return principal, record


class ApiKeyStore:
    """API keys on the embedded SQLite database (PostgreSQL: kitgate.controller.pg.apikeys, same checks)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("apikeys", _DDL)

    def issue(self, sub: str, scopes: list[str], *, ttl_s: int | None = None, policies: list[str] | None = None,
              cidrs: list[str] | None = None) -> tuple[str, ApiKeyRecord]:
        key, key_id, row = new_key(sub, scopes, ttl_s=ttl_s, policies=policies, cidrs=cidrs, now=time.time())
        with self.db.write() as conn:
            conn.execute(f"INSERT INTO apikeys({INSERT_COLUMNS}) VALUES(?,?,?,?,?,?,?,?)", row)  # noqa: S608
        record = self.get(key_id)
        assert record is not None
        return key, record

    def verify(self, key: str) -> tuple[Principal, ApiKeyRecord]:
        key_id = key_id_of(key)
        row = self.db.connection().execute("SELECT * FROM apikeys WHERE id=?", (key_id,)).fetchone()
        return principal_for(key, row, time.time())

    def get(self, key_id: str) -> ApiKeyRecord | None:
        row = self.db.connection().execute("SELECT * FROM apikeys WHERE id=?", (key_id,)).fetchone()
        return record_from_row(row) if row else None

    def list(self) -> list[ApiKeyRecord]:
        rows = self.db.connection().execute("SELECT * FROM apikeys ORDER BY created_at").fetchall()
        return [record_from_row(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute("UPDATE apikeys SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                               (time.time(), key_id))
        return cur.rowcount == 1
