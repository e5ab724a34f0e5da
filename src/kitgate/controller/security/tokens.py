"""Scoped bearer tokens: EdDSA JWTs verified with an explicit algorithm list, bounded by their SQLite record.

A valid signature is not enough: whoever holds the signing key could re-sign an issued token id with a
30-year expiry or more scopes. So every request also checks the stored record (expiry, revocation, scopes,
policies, networks): the rights a request gets are the intersection of the signed claims and the record,
and a lifetime outside the record's (later `exp`, earlier `iat`) is refused as a forgery.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from kitgate.controller.db import Database
from kitgate.controller.security.keys import KeyRing
from kitgate.controller.security.principal import SCOPES, Principal

MAX_TOKEN_CHARS = 4096
_ISSUE_SLACK_S = 5.0  # a genuine token's exp/iat are its record's expiry/creation rounded down to whole seconds
_CACHE_MAX = 10_000  # verified token strings kept (their claims only); oldest dropped first
ALGORITHMS = ["EdDSA"]  # the only algorithm ever accepted; never taken from the token header
_REASONS: dict[type[Exception], str] = {
    jwt.ImmatureSignatureError: "not_yet_valid",
    jwt.InvalidAudienceError: "wrong_audience",
    jwt.InvalidIssuerError: "wrong_issuer",
    jwt.InvalidSignatureError: "bad_signature",
    jwt.MissingRequiredClaimError: "missing_claim",
    jwt.InvalidAlgorithmError: "wrong_algorithm",
    jwt.InvalidIssuedAtError: "bad_iat",
    jwt.exceptions.InvalidSubjectError: "bad_sub",
    jwt.exceptions.InvalidJTIError: "bad_jti",
    jwt.DecodeError: "malformed",
}
_DDL = [
    """CREATE TABLE tokens (
        jti TEXT PRIMARY KEY, sub TEXT NOT NULL, kind TEXT NOT NULL, scopes TEXT NOT NULL,
        policies TEXT, cidrs TEXT, created_at REAL NOT NULL, expires_at REAL NOT NULL, revoked_at REAL)""",
]


def _header(token: str) -> dict[str, Any]:
    """Only to pick the key: PyJWT parses and checks the header again, strictly, when it verifies."""
    segment = token.split(".", 1)[0]
    if len(segment) > 1024:
        raise AuthFailure("malformed")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        raise AuthFailure("malformed") from None
    if not isinstance(header, dict):
        raise AuthFailure("malformed")
    return header


# The only reasons a 401 names to the caller, and only raised once the credential is proven genuine (a
# verified signature or secret, an issued record, not revoked). Everything else (bad signature, unknown id,
# revoked, wrong audience...) stays the one generic 401: telling a guesser why would help the guess.
EXPIRED_REASONS = frozenset({"expired", "apikey_expired"})


class AuthFailure(Exception):
    """Internal reason for a refused credential; the 401 is generic except for a genuine credential's expiry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def expired(self) -> bool:
        return self.reason in EXPIRED_REASONS


@dataclass(frozen=True)
class TokenRecord:
    jti: str
    sub: str
    kind: str
    scopes: list[str]
    policies: list[str] | None
    cidrs: list[str] | None
    created_at: float
    expires_at: float
    revoked_at: float | None

    def public_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def record_from_row(row: Any) -> TokenRecord:
    """A tokens row (SQLite or PostgreSQL: same columns, JSON lists as text) as a TokenRecord."""
    return TokenRecord(
        jti=row["jti"], sub=row["sub"], kind=row["kind"], scopes=json.loads(row["scopes"]),
        policies=json.loads(row["policies"]) if row["policies"] else None,
        cidrs=json.loads(row["cidrs"]) if row["cidrs"] else None,
        created_at=row["created_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
    )


_row = record_from_row


def checked_scopes(scopes: list[str]) -> list[str]:
    """The scopes as stored (sorted, once each); ValueError for an empty list or an unknown scope."""
    bad = sorted(set(scopes) - set(SCOPES))
    if bad or not scopes:
        raise ValueError(f"unknown scope(s) {bad}; choose from {', '.join(SCOPES)}")
    return sorted(set(scopes))


# the INSERT both engines run (placeholders differ: "?" for SQLite, "%s" for PostgreSQL)
INSERT_COLUMNS = "jti, sub, kind, scopes, policies, cidrs, created_at, expires_at"


def insert_values(jti: str, sub: str, scopes: list[str], policies: list[str] | None, cidrs: list[str] | None,
                  now: float, ttl_s: int) -> tuple[object, ...]:
    """The row of a newly issued token, in INSERT_COLUMNS order."""
    return (jti, sub, "token", json.dumps(checked_scopes(scopes)), json.dumps(policies) if policies else None,
            json.dumps(cidrs) if cidrs else None, now, now + ttl_s)


def principal_for(claims: dict[str, Any], record: TokenRecord | None, now: float) -> Principal:
    """The record checks every request makes after the signature: the rights are what both the claims and the
    record grant; revocation, expiry (the earlier of the two) and a lifetime no issued token has are refused."""
    if record is None:
        raise AuthFailure("unknown_token")
    if record.sub != claims["sub"]:
        raise AuthFailure("claims_mismatch")
    if record.revoked_at is not None:
        raise AuthFailure("revoked")
    if min(record.expires_at, claims["exp"]) <= now:
        raise AuthFailure("expired")  # only now: the signature, the record and its subject all checked out
    if claims["exp"] > record.expires_at + _ISSUE_SLACK_S or claims["iat"] < record.created_at - _ISSUE_SLACK_S:
        raise AuthFailure("claims_mismatch")  # a lifetime no issued token has: re-signed with the key
    return Principal(  # the rights both grant: a scope must be signed AND stored
        sub=record.sub, kind="token", scopes=frozenset(claims["scope"].split()) & frozenset(record.scopes),
        policies=frozenset(record.policies) if record.policies else None, token_id=record.jti,
    )


def grants_admin(scope_texts: list[str]) -> bool:
    """Does any of these stored `scopes` values (JSON lists) include admin?"""
    return any("admin" in json.loads(text) for text in scope_texts)


class TokenCodec:
    """The pure half of a token store, shared by both engines: minting and verifying the JWT itself."""

    def __init__(self, keys: KeyRing, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self._cache: dict[str, tuple[str, dict[str, Any]]] = {}

    def mint(self, sub: str, scopes: list[str], ttl_s: int, now: float) -> tuple[str, str]:
        """(token, jti) signed with the active token key. ValueError for an unknown scope."""
        scopes = checked_scopes(scopes)
        jti = uuid.uuid4().hex
        key = self.keys.active("token")
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": sub, "jti": jti,
            "iat": int(now), "nbf": int(now), "exp": int(now + ttl_s), "scope": " ".join(scopes),
        }
        return jwt.encode(claims, key.private, algorithm=ALGORITHMS[0], headers={"kid": key.kid}), jti

    def claims(self, token: str) -> dict[str, Any]:
        """The token's verified claims (not its expiry: see `principal_for`); AuthFailure otherwise."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise AuthFailure("malformed")
        return self._verified_claims(token)

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """PyJWT's decode costs ~0.3 ms here (half of it base64 checks in Python); a token string already
        verified skips it, but its `nbf` and its key are checked again on every request.

        `exp` is not checked here but in `principal_for`, after the record: "expired" is the one reason a holder
        is told, so it must only ever be said of a token proven genuine (signature, record, not revoked)."""
        now = time.time()
        cached = self._cache.get(token)
        if cached is not None:
            kid, claims = cached
            if claims["nbf"] > now:
                raise AuthFailure("not_yet_valid")
            if self.keys.verifying_key("token", kid) is not None:
                return claims
        header = _header(token)
        if header.get("alg") not in ALGORITHMS:
            raise AuthFailure("wrong_algorithm")  # alg: none, HS256 keyed with the public key, RS/ES...
        kid = header.get("kid")
        key = self.keys.verifying_key("token", kid) if isinstance(kid, str) else None
        if key is None:
            raise AuthFailure("unknown_key")
        try:
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "nbf", "iat", "aud", "iss", "jti", "sub", "scope"],
                         "verify_exp": False},  # checked in principal_for(), once the token is known genuine
            )
        except jwt.PyJWTError as exc:
            raise AuthFailure(_REASONS.get(type(exc), "invalid_token")) from None
        if not all(isinstance(claims[k], int | float) for k in ("exp", "nbf", "iat")):
            raise AuthFailure("malformed")
        if not isinstance(claims["scope"], str):
            raise AuthFailure("malformed")
        if len(self._cache) >= _CACHE_MAX:
            self._cache.pop(next(iter(self._cache)))
        self._cache[token] = (kid, claims)
        return claims


class TokenStore:
    """Tokens on the embedded SQLite database (PostgreSQL: kitgate.controller.pg.tokens, same checks)."""

    def __init__(self, db: Database, keys: KeyRing, issuer: str, audience: str) -> None:
        self.db = db
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.codec = TokenCodec(keys, issuer, audience)
        db.migrate("tokens", _DDL)

    def issue(
        self,
        sub: str,
        scopes: list[str],
        *,
        ttl_s: int,
        policies: list[str] | None = None,
        cidrs: list[str] | None = None,
    ) -> tuple[str, TokenRecord]:
        now = time.time()
        token, jti = self.codec.mint(sub, scopes, ttl_s, now)
        with self.db.write() as conn:
            conn.execute(f"INSERT INTO tokens({INSERT_COLUMNS}) VALUES(?,?,?,?,?,?,?,?)",  # noqa: S608
                         insert_values(jti, sub, scopes, policies, cidrs, now, ttl_s))
        record = self.get(jti)
        assert record is not None
        return token, record

    def verify(self, token: str) -> tuple[Principal, TokenRecord]:
        """Signature and claims (cached per token string), then the SQLite record on every call: revocation,
        the expiry (the earlier of the record's and the signed one), and claims that must not promise more
        than the record (else `claims_mismatch`)."""
        claims = self.codec.claims(token)
        record = self.get(str(claims["jti"]))
        principal = principal_for(claims, record, time.time())
        assert record is not None  # principal_for refused a missing one
        return principal, record

    def get(self, jti: str) -> TokenRecord | None:
        row = self.db.connection().execute("SELECT * FROM tokens WHERE jti=?", (jti,)).fetchone()
        return record_from_row(row) if row else None

    def list(self) -> list[TokenRecord]:
        rows = self.db.connection().execute("SELECT * FROM tokens ORDER BY created_at").fetchall()
        return [record_from_row(r) for r in rows]

    def revoke(self, jti: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked_at=? WHERE jti=? AND revoked_at IS NULL", (time.time(), jti)
            )
        return cur.rowcount == 1

    def has_admin(self) -> bool:
        rows = self.db.connection().execute(
            "SELECT scopes FROM tokens WHERE revoked_at IS NULL AND expires_at > ?", (time.time(),)
        ).fetchall()
        return grants_admin([r["scopes"] for r in rows])
