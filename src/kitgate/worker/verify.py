"""Turns a raw claim response into a runnable job, or a refusal reason.

Why a separate step: nothing the controller sends is trusted until the signed claim's signature (pinned
keys), code hash, policy digest (against the worker's OWN policy files), expiry, audience and
claim id all check out. A refusal is reported as `rejected` and nothing runs.

Wire note: the claim response carries the signed claim (a compact Ed25519 JWS) in its JSON field
`envelope`; the field keeps that name for compatibility, the thing it holds is a signed claim.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kitgate.protocol.wire import (
    ID_RE,
    MAX_CODE_CHARS,
    MAX_POLICY_DIGEST_CHARS,
    MAX_SIGNED_CLAIM_CHARS,
    POLICY_NAME_RE,
)


class ClaimRefused(Exception):
    """The claim must not run. `reason` is one of `protocol.claims.REASONS` or a local one."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class MalformedClaim(Exception):
    """The response is not a claim at all (garbage); there is no job id to report against."""


@dataclass
class Job:
    """A verified job, ready for the host thread."""

    job_id: str
    claim_id: str
    code: str
    policy: Any  # kitgate.sandbox.policy.Policy
    timeout_s: float | None
    claims: dict[str, Any]
    claimed_at: float
    exp: float | None = None
    started_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RawClaim:
    job_id: str
    claim_id: str
    code: str
    policy: str
    policy_digest: str
    timeout_s: float | None
    signed_claim: str  # the JWS, from the response's `envelope` field


def parse_claim(body: Any) -> RawClaim:
    """Shape-check a ClaimResponse; MalformedClaim when it cannot even name a job."""
    if not isinstance(body, dict):
        raise MalformedClaim(f"claim body is {type(body).__name__}, not an object")
    job_id, claim_id = body.get("job_id"), body.get("claim_id")
    if not (isinstance(job_id, str) and ID_RE.match(job_id) and isinstance(claim_id, str) and ID_RE.match(claim_id)):
        raise MalformedClaim("claim without a valid job_id/claim_id")
    code, policy, digest = body.get("code"), body.get("policy"), body.get("policy_digest")
    signed, timeout_s = body.get("envelope"), body.get("timeout_s")  # wire name of the signed claim
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        raise ClaimRefused("malformed", "code missing or too large")
    if not isinstance(policy, str) or not POLICY_NAME_RE.match(policy):
        raise ClaimRefused("malformed", "policy name missing or invalid")
    if not isinstance(digest, str) or len(digest) > MAX_POLICY_DIGEST_CHARS:
        raise ClaimRefused("malformed", "policy_digest missing")
    if not isinstance(signed, str) or not signed:
        raise ClaimRefused("unsigned", "claim carries no signed claim (field `envelope`)")
    if len(signed) > MAX_SIGNED_CLAIM_CHARS:
        raise ClaimRefused("malformed", "signed claim too large")
    if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float)):
        raise ClaimRefused("malformed", "timeout_s is not a number")
    return RawClaim(job_id, claim_id, code, policy, digest, float(timeout_s) if timeout_s else None, signed)


def keys_from_jwks(jwks: Any) -> dict[str, Any]:
    """kid -> public key object, from a JWKS document (only OKP/Ed25519 keys are accepted)."""
    import jwt  # lazily: PyJWT is bundled with the extension, not needed to import the runner

    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a JWKS document (expected {'keys': [...]})")
    out: dict[str, Any] = {}
    for jwk in jwks["keys"][:32]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            out[kid] = jwt.PyJWK(jwk, algorithm="EdDSA").key
        except (jwt.PyJWKError, ValueError, TypeError):
            continue
    if not out:
        raise ValueError("JWKS holds no usable Ed25519 key")
    return out


class ClaimChecker:
    """Verifies claims against pinned keys and the local policy directory."""

    def __init__(
        self,
        public_keys: dict[str, Any],
        worker_id: str,
        policy_dir: Path | None = None,
        asset_root: Path | None = None,
    ) -> None:
        from kitgate.protocol.claims import ReplayWindow

        self._keys = dict(public_keys)
        self._worker_id = worker_id
        self._policy_dir = policy_dir
        self._asset_root = asset_root  # from the worker's config; the sandbox never reads the environment
        self._seen = ReplayWindow()  # across restarts, the runner's claim journal refuses known claim ids

    def check(self, raw: RawClaim, *, now: float | None = None) -> Job:
        """Return the verified Job or raise ClaimRefused."""
        from kitgate.protocol.claims import ClaimError, verify_claim
        from kitgate.sandbox.policy import PolicyError, load_policy

        now = time.time() if now is None else now
        try:
            # The claim's (unsigned) digest is only a cache hint: a cached policy with another digest is re-read
            # from disk; the signed digest is still checked against the policy's below.
            policy = load_policy(raw.policy, self._policy_dir, self._asset_root, expect_digest=raw.policy_digest)
        except PolicyError as exc:
            raise ClaimRefused("policy_mismatch", f"policy {raw.policy!r} is not installed here: {exc}") from None
        try:
            claims = verify_claim(
                raw.signed_claim,
                self._keys,
                code=raw.code,
                policy_digest=policy.digest,
                worker_id=self._worker_id,
                now=now,
                seen=self._seen,
            )
        except ClaimError as exc:
            reason = str(getattr(exc, "reason", "malformed"))
            raise ClaimRefused(reason, str(exc)) from None
        if not isinstance(claims, dict):
            raise ClaimRefused("malformed", "verifier returned no claims")
        # The unsigned fields of the response must agree with what was signed.
        if claims.get("sub") != raw.job_id:
            raise ClaimRefused("malformed", "signed claim is for another job")
        if claims.get("jti") != raw.claim_id:
            raise ClaimRefused("malformed", "signed claim is for another claim")
        if claims.get("policy") != raw.policy:
            raise ClaimRefused("policy_mismatch", "signed claim names another policy")
        timeout = claims.get("timeout_s", raw.timeout_s)
        timeout_s = float(timeout) if isinstance(timeout, int | float) and not isinstance(timeout, bool) else None
        exp = claims.get("exp")
        return Job(
            job_id=raw.job_id,
            claim_id=raw.claim_id,
            code=raw.code,
            policy=policy,
            timeout_s=timeout_s,
            claims=claims,
            claimed_at=now,
            exp=float(exp) if isinstance(exp, int | float) else None,
        )
