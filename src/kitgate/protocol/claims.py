"""Signed claims: the controller signs what a worker may run; the worker checks before anything runs.

Why here: the signed claim is the contract between the controller (signs) and the worker (verifies),
so it lives in the protocol package both import, not in the sandbox. The worker side runs inside Kit,
so this module uses nothing but PyJWT (imported lazily), cryptography and the stdlib.

Words: the *signed claim* is the compact Ed25519 JWS handed to a worker with each job. It travels in the
claim response's JSON field `envelope` (name kept for wire compatibility with existing workers). The
word "envelope" otherwise means only the HTTP error body `{"error": {...}}` (`protocol.errors`).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from kitgate.protocol.wire import MAX_SIGNED_CLAIM_CHARS

ISSUER = "kitgate"
ALGORITHMS = ["EdDSA"]  # never taken from the token header
CLOCK_SKEW_S = 30
REASONS = frozenset(
    {"unsigned", "bad_signature", "unknown_key", "expired", "wrong_audience", "code_mismatch",
     "policy_mismatch", "replayed", "malformed"}
)


class ClaimError(Exception):
    """Why a signed claim was refused; `reason` is one of REASONS and safe to report to the controller."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def sign_claim(private_key: Any, kid: str, claims: Mapping[str, Any]) -> str:
    import jwt

    return jwt.encode(dict(claims), private_key, algorithm="EdDSA", headers={"kid": kid})


def build_claims(
    *,
    job_id: str,
    code_sha256: str,
    policy: str,
    policy_digest: str,
    limits: Mapping[str, Any],
    timeout_s: float | None,
    worker_id: str,
    attempt: int,
    ttl_s: int,
    now: float | None = None,
) -> dict[str, Any]:
    issued = int(now if now is not None else time.time())
    return {
        "iss": ISSUER,
        "aud": worker_id,
        "sub": job_id,
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "exp": issued + ttl_s,
        "code_sha256": code_sha256,
        "policy": policy,
        "policy_digest": policy_digest,
        "limits": dict(limits),
        "timeout_s": timeout_s,
        "attempt": attempt,
    }


class ReplayWindow:
    """Claim ids (jti) this worker accepted, kept in memory until their signed claim expires.

    Why in memory only: persistence across restarts is the claim journal's job (the runner journals
    every claim id before its job can run and refuses a known one, and `ClaimChecker.check` demands
    `jti == claim_id`). Expired ids are purged at most once a second, so a check is O(1) amortised,
    not O(claims within the claim TTL).
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._purged_at = 0.0

    def check_and_add(self, jti: str, exp: float, now: float) -> None:
        with self._lock:
            if now - self._purged_at >= 1.0 or len(self._seen) >= self.max_entries:
                self._seen = {k: v for k, v in self._seen.items() if v + CLOCK_SKEW_S >= now}
                self._purged_at = now
            if jti in self._seen:
                raise ClaimError("replayed", "this signed claim was already used")
            if len(self._seen) >= self.max_entries:
                raise ClaimError("replayed", "replay cache is full")
            self._seen[jti] = exp

    def __len__(self) -> int:
        return len(self._seen)


def verify_claim(
    token: str,
    public_keys: Mapping[str, Any],
    *,
    code: str,
    policy_digest: str,
    worker_id: str,
    now: float | None = None,
    seen: ReplayWindow | None = None,
) -> dict[str, Any]:
    """Return the verified claims, or raise ClaimError. Checks run before anything is executed."""
    import jwt

    if not isinstance(token, str) or not token or len(token) > MAX_SIGNED_CLAIM_CHARS or token.count(".") != 2:
        raise ClaimError("malformed", "signed claim is not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise ClaimError("malformed", "signed claim header is unreadable") from None
    alg = header.get("alg")
    if not alg or str(alg).lower() == "none" or not token.split(".")[2]:
        raise ClaimError("unsigned", "claim is not signed")
    if alg not in ALGORITHMS:
        raise ClaimError("bad_signature", f"algorithm {alg!r} is not accepted")
    key = public_keys.get(str(header.get("kid", "")))
    if key is None:
        raise ClaimError("unknown_key", "claim was signed by a key this worker does not trust")
    current = now if now is not None else time.time()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=worker_id,
            issuer=ISSUER,
            leeway=CLOCK_SKEW_S,
            options={"require": ["exp", "iat", "aud", "iss", "jti", "sub"], "verify_exp": False},
        )
    except jwt.InvalidAudienceError:
        raise ClaimError("wrong_audience", "claim was issued to another worker") from None
    except jwt.InvalidSignatureError:
        raise ClaimError("bad_signature", "claim signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise ClaimError("malformed", f"signed claim fields are invalid: {type(exc).__name__}") from None
    if float(claims["exp"]) + CLOCK_SKEW_S < current:
        raise ClaimError("expired", "signed claim has expired")
    if claims.get("code_sha256") != code_sha256(code):
        raise ClaimError("code_mismatch", "code does not match the signed hash")
    if claims.get("policy_digest") != policy_digest:
        raise ClaimError("policy_mismatch", "policy differs from the one the controller signed")
    if seen is not None:
        seen.check_and_add(str(claims["jti"]), float(claims["exp"]), current)
    return claims
