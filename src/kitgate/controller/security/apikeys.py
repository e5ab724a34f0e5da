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
from kitgate.controller.security.principal import SCOPES, Principal
from kitgate.controller.security.tokens import AuthFailure

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


def _row(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"], sub=row["sub"], scopes=json.loads(row["scopes"]),
        policies=json.loads(row["policies"]) if row["policies"] else None,
        cidrs=json.loads(row["cidrs"]) if row["cidrs"] else None,
        created_at=row["created_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
    )


class ApiKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("apikeys", _DDL)

    def issue(self, sub: str, scopes: list[str], *, ttl_s: int | None = None, policies: list[str] | None = None,
              cidrs: list[str] | None = None) -> tuple[str, ApiKeyRecord]:
        bad = sorted(set(scopes) - set(SCOPES))
        if bad or not scopes:
            raise ValueError(f"unknown scope(s) {bad}; choose from {', '.join(SCOPES)}")
        key_id = secrets.token_hex(8)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO apikeys(id, sub, scopes, policies, cidrs, digest, created_at, expires_at) "
                "VALUES(?,?,?,?,?,?,?,?)",
                (key_id, sub, json.dumps(sorted(set(scopes))), json.dumps(policies) if policies else None,
                 json.dumps(cidrs) if cidrs else None, _digest(key), now, now + ttl_s if ttl_s else None),
            )
        record = self.get(key_id)
        assert record is not None
        return key, record

    def verify(self, key: str) -> tuple[Principal, ApiKeyRecord]:
        match = _SHAPE.match(key)
        if not match:
            raise AuthFailure("apikey_malformed")
        row = self.db.connection().execute("SELECT * FROM apikeys WHERE id=?", (match.group(1),)).fetchone()
        stored = row["digest"] if row else _DUMMY_DIGEST
        if not hmac.compare_digest(stored, _digest(key)) or row is None:
            raise AuthFailure("apikey_unknown")
        record = _row(row)
        if record.revoked_at is not None:
            raise AuthFailure("apikey_revoked")
        if record.expires_at is not None and record.expires_at <= time.time():
            raise AuthFailure("apikey_expired")  # told to the caller: only reached with the right secret
        principal = Principal(
            sub=record.sub, kind="apikey", scopes=frozenset(record.scopes),
            policies=frozenset(record.policies) if record.policies else None, token_id=record.id,
        )
        return principal, record

    def get(self, key_id: str) -> ApiKeyRecord | None:
        row = self.db.connection().execute("SELECT * FROM apikeys WHERE id=?", (key_id,)).fetchone()
        return _row(row) if row else None

    def list(self) -> list[ApiKeyRecord]:
        rows = self.db.connection().execute("SELECT * FROM apikeys ORDER BY created_at").fetchall()
        return [_row(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute("UPDATE apikeys SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                               (time.time(), key_id))
        return cur.rowcount == 1
