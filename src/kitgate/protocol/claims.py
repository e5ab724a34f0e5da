"""Signed claims: the controller signs what a worker may run; the worker checks before anything runs.

Why here: the signed claim is the contract between the controller (signs) and the worker (verifies),
so it lives in the protocol package both import, not in the sandbox. The worker side runs inside Kit,
so this module uses nothing but cryptography and the stdlib. Verifying is done here, not by a JWT
library, because it runs once per job on the worker: a regex and binascii (C) do the strict format and
base64url checks, cryptography verifies Ed25519 over the exact signed bytes, and every claim check a
JWT library made is made here too, plus stricter ones (see `verify_claim`).

Words: the *signed claim* is the compact Ed25519 JWS handed to a worker with each job. It travels in the
claim response's JSON field `envelope` (name kept for wire compatibility with existing workers). The
word "envelope" otherwise means only the HTTP error body `{"error": {...}}` (`protocol.errors`).
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: a Kit Python without `cryptography` can still import the protocol
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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


def _b64url_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii").translate(_STD_TO_URLSAFE).rstrip("=")


_STD_TO_URLSAFE = str.maketrans("+/", "-_")
_HEADERS: dict[str, str] = {}  # kid -> its encoded JWS header, the same bytes every time


def sign_claim(private_key: Ed25519PrivateKey, kid: str, claims: Mapping[str, Any]) -> str:
    """A compact JWS, `{"alg":"EdDSA","kid":...,"typ":"JWT"}` over compact JSON: the bytes PyJWT made
    (any JWS library verifies it, so workers of every version do). NaN or Infinity cannot be signed."""
    head = _HEADERS.get(kid)
    if head is None:
        header = json.dumps({"alg": "EdDSA", "kid": kid, "typ": "JWT"}, separators=(",", ":"), sort_keys=True)
        head = _b64url_encode(header.encode())
        if len(_HEADERS) < 64:  # a few signing keys per controller; never grows without bound
            _HEADERS[kid] = head
    payload = json.dumps(dict(claims), separators=(",", ":"), allow_nan=False)
    signing_input = f"{head}.{_b64url_encode(payload.encode())}"
    return f"{signing_input}.{_b64url_encode(private_key.sign(signing_input.encode('ascii')))}"


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


_JWS_RE = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)")
_URLSAFE_TO_STD = str.maketrans("-_", "+/")
_HEADER_KEYS = frozenset({"alg", "kid", "typ"})
_SIG_CHARS = 86  # 64 bytes of Ed25519 signature in unpadded base64url
_MAX_TIME = 1e11  # seconds since the epoch (year 5138): a bound that keeps float() and comparisons exact
_CLAIMS_SCHEMA = ("exp", "iat", "aud", "iss", "jti", "sub")


def _b64url(segment: str) -> bytes:
    """Strict base64url without padding (the regex already allowed only its alphabet); C code throughout."""
    if len(segment) % 4 == 1:
        raise ValueError("impossible base64url length")
    return binascii.a2b_base64(segment.translate(_URLSAFE_TO_STD) + "=" * (-len(segment) % 4), strict_mode=True)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")  # two parsers could read two different values
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(data: bytes) -> dict[str, Any]:
    """UTF-8 (no BOM, no encoding sniffing), one object, no duplicate keys, no NaN/Infinity."""
    value = json.loads(data.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    if type(value) is not dict:
        raise ValueError("not a JSON object")
    return value


def _time_value(value: Any) -> float | None:
    """A finite number of seconds in [0, _MAX_TIME], or None."""
    if type(value) not in (int, float) or not (0 <= value <= _MAX_TIME):  # NaN fails the range too
        return None
    return float(value)


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
    """Return the verified claims, or raise ClaimError. Checks run before anything is executed.

    The token is a compact JWS (header.payload.signature, base64url without padding). Order: shape (a
    length bound and a regex over the whole token, both C), strict base64url, the header (JSON object of
    `alg`, `kid`, `typ` only; `alg` must be exactly EdDSA, never taken from the token), the Ed25519
    signature over the exact bytes `header.payload` (cryptography, the key pinned by `kid`), then the
    payload (UTF-8 JSON object) and its claims: required ones, iat/nbf not in the future, issuer,
    audience (this worker, a string), subject and claim id types, expiry, code hash, policy digest, and
    last the replay window (so a refused claim does not use up its claim id)."""
    if type(token) is not str or not token or len(token) > MAX_SIGNED_CLAIM_CHARS:
        raise ClaimError("malformed", "signed claim is not a compact JWS")
    shape = _JWS_RE.fullmatch(token)
    if shape is None:
        raise ClaimError("malformed", "signed claim is not a compact JWS (three base64url segments)")
    head_b64, body_b64, sig_b64 = shape.groups()
    try:
        header = _json_object(_b64url(head_b64))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ClaimError("malformed", "signed claim header is unreadable") from None
    if not header.keys() <= _HEADER_KEYS:
        raise ClaimError("malformed", "signed claim header has parameters this worker does not accept")
    if header.get("typ", "JWT") != "JWT" or type(header.get("kid", "")) is not str:
        raise ClaimError("malformed", "signed claim header is invalid")
    alg = header.get("alg")
    if not alg or str(alg).lower() == "none" or not sig_b64:
        raise ClaimError("unsigned", "claim is not signed")
    if type(alg) is not str or alg not in ALGORITHMS:
        raise ClaimError("bad_signature", f"algorithm {alg!r} is not accepted")
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = public_keys.get(header.get("kid", ""))
    if not isinstance(key, Ed25519PublicKey):
        raise ClaimError("unknown_key", "claim was signed by a key this worker does not trust")
    if len(sig_b64) != _SIG_CHARS or sig_b64[-1] not in "AQgw":  # the last 4 bits must be zero: one spelling
        raise ClaimError("bad_signature", "claim signature is not a canonical Ed25519 signature")
    try:
        body = _b64url(body_b64)
        key.verify(_b64url(sig_b64), token[: len(head_b64) + 1 + len(body_b64)].encode("ascii"))
    except ValueError:
        raise ClaimError("malformed", "signed claim payload is not base64url") from None
    except InvalidSignature:
        raise ClaimError("bad_signature", "claim signature does not verify") from None
    try:
        claims = _json_object(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ClaimError("malformed", "signed claim payload is not a JSON object") from None
    current = now if now is not None else time.time()
    for name in _CLAIMS_SCHEMA:
        if claims.get(name) is None:
            raise ClaimError("malformed", f"signed claim lacks {name!r}")
    exp, iat = _time_value(claims["exp"]), _time_value(claims["iat"])
    if exp is None or iat is None:
        raise ClaimError("malformed", "signed claim times (exp, iat) are invalid")
    if iat > current + CLOCK_SKEW_S:
        raise ClaimError("malformed", "signed claim was issued in the future")
    if "nbf" in claims:
        nbf = _time_value(claims["nbf"])
        if nbf is None or nbf > current + CLOCK_SKEW_S:
            raise ClaimError("malformed", "signed claim is not valid yet (nbf)")
    if claims["iss"] != ISSUER:
        raise ClaimError("malformed", "signed claim has another issuer")
    if type(claims["aud"]) is not str or claims["aud"] != worker_id:
        raise ClaimError("wrong_audience", "claim was issued to another worker")
    if type(claims["sub"]) is not str or type(claims["jti"]) is not str:
        raise ClaimError("malformed", "signed claim subject or id is not a string")
    if exp + CLOCK_SKEW_S < current:
        raise ClaimError("expired", "signed claim has expired")
    try:
        actual = code_sha256(code)
    except (UnicodeEncodeError, AttributeError):  # lone surrogates (JSON "\ud800") or not text: never signed
        actual = None
    if actual is None or claims.get("code_sha256") != actual:
        raise ClaimError("code_mismatch", "code does not match the signed hash")
    if claims.get("policy_digest") != policy_digest:
        raise ClaimError("policy_mismatch", "policy differs from the one the controller signed")
    if seen is not None:
        seen.check_and_add(claims["jti"], exp, current)
    return claims
