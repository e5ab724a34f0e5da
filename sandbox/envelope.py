"""Signed job envelopes: the controller signs what a worker may run; the worker checks before anything runs.

PyJWT is imported lazily so the rest of the sandbox stays importable where only the compiler is needed.
The worker side runs inside Kit, so this module uses nothing but PyJWT, cryptography and the stdlib.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

ISSUER = "kitgate"
ALGORITHMS = ["EdDSA"]  # never taken from the token header
MAX_ENVELOPE_CHARS = 16_384
CLOCK_SKEW_S = 30
REASONS = frozenset(
    {"unsigned", "bad_signature", "unknown_key", "expired", "wrong_audience", "code_mismatch",
     "policy_mismatch", "replayed", "malformed"}
)


class EnvelopeError(Exception):
    """Why an envelope was refused; `reason` is one of REASONS and safe to report to the controller."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def sign_envelope(private_key: Any, kid: str, claims: Mapping[str, Any]) -> str:
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
    """Envelope ids (jti) this worker accepted, kept in memory until their envelope expires.

    Why in memory only: persistence across restarts is the claim journal's job (the runner journals
    every claim id before its job can run and refuses a known one, and `EnvelopeChecker.check` demands
    `jti == claim_id`). Expired ids are purged at most once a second, so a check is O(1) amortised,
    not O(claims within the envelope TTL).
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
                raise EnvelopeError("replayed", "this envelope was already used")
            if len(self._seen) >= self.max_entries:
                raise EnvelopeError("replayed", "replay cache is full")
            self._seen[jti] = exp

    def __len__(self) -> int:
        return len(self._seen)


def verify_envelope(
    token: str,
    public_keys: Mapping[str, Any],
    *,
    code: str,
    policy_digest: str,
    worker_id: str,
    now: float | None = None,
    seen: ReplayWindow | None = None,
) -> dict[str, Any]:
    """Return the verified claims, or raise EnvelopeError. Checks run before anything is executed."""
    import jwt

    if not isinstance(token, str) or not token or len(token) > MAX_ENVELOPE_CHARS or token.count(".") != 2:
        raise EnvelopeError("malformed", "envelope is not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise EnvelopeError("malformed", "envelope header is unreadable") from None
    alg = header.get("alg")
    if not alg or str(alg).lower() == "none" or not token.split(".")[2]:
        raise EnvelopeError("unsigned", "envelope is not signed")
    if alg not in ALGORITHMS:
        raise EnvelopeError("bad_signature", f"algorithm {alg!r} is not accepted")
    key = public_keys.get(str(header.get("kid", "")))
    if key is None:
        raise EnvelopeError("unknown_key", "envelope was signed by a key this worker does not trust")
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
        raise EnvelopeError("wrong_audience", "envelope was issued to another worker") from None
    except jwt.InvalidSignatureError:
        raise EnvelopeError("bad_signature", "envelope signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise EnvelopeError("malformed", f"envelope claims are invalid: {type(exc).__name__}") from None
    if float(claims["exp"]) + CLOCK_SKEW_S < current:
        raise EnvelopeError("expired", "envelope has expired")
    if claims.get("code_sha256") != code_sha256(code):
        raise EnvelopeError("code_mismatch", "code does not match the signed hash")
    if claims.get("policy_digest") != policy_digest:
        raise EnvelopeError("policy_mismatch", "policy differs from the one the controller signed")
    if seen is not None:
        seen.check_and_add(str(claims["jti"]), float(claims["exp"]), current)
    return claims
