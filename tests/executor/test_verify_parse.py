"""Claim shape checks and key parsing happen before any signature check: hostile shapes never get far."""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kitgate.worker.verify import ClaimRefused, MalformedClaim, keys_from_jwks, parse_claim

GOOD = {"job_id": "j1", "claim_id": "c1", "code": "print(1)", "policy": "scene-edit", "policy_digest": "sha256:ab",
        "timeout_s": 5, "envelope": "a.b.c"}


def test_a_well_formed_claim_parses() -> None:
    raw = parse_claim(dict(GOOD))
    assert (raw.job_id, raw.claim_id, raw.timeout_s) == ("j1", "c1", 5.0)


@pytest.mark.parametrize("body", [None, [], "x", {"job_id": 1, "claim_id": "c"}, {"job_id": "../x", "claim_id": "c"},
                                  {"job_id": "j", "claim_id": None}])
def test_garbage_is_not_a_claim(body: object) -> None:
    with pytest.raises(MalformedClaim):
        parse_claim(body)


@pytest.mark.parametrize("change,reason", [
    ({"envelope": ""}, "unsigned"),
    ({"envelope": None}, "unsigned"),
    ({"code": 5}, "malformed"),
    ({"code": "x" * 1_000_001}, "malformed"),
    ({"policy": "../../etc/passwd"}, "malformed"),
    ({"timeout_s": "10"}, "malformed"),
    ({"timeout_s": True}, "malformed"),
    ({"envelope": "e" * 70_000}, "malformed"),
])
def test_bad_fields_are_refused_with_a_reason(change: dict, reason: str) -> None:
    with pytest.raises(ClaimRefused) as info:
        parse_claim({**GOOD, **change})
    assert info.value.reason == reason


def test_only_ed25519_keys_with_a_kid_are_accepted() -> None:
    ed = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate().public_key()))
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()))
    keys = keys_from_jwks({"keys": [{**rsa_jwk, "kid": "r"}, {**ed, "kid": "e"}, dict(ed), "junk"]})
    assert list(keys) == ["e"]
    for bad in ({}, {"keys": "x"}, {"keys": [{**rsa_jwk, "kid": "r"}]}, []):
        with pytest.raises(ValueError):
            keys_from_jwks(bad)


def test_the_checker_refuses_the_same_envelope_twice() -> None:
    """The in-memory replay window refuses a second use even when the journal is not asked."""
    from kitgate.protocol.claims import build_claims, code_sha256, sign_claim
    from kitgate.sandbox.policy import load_policy
    from kitgate.worker.verify import ClaimChecker

    key = Ed25519PrivateKey.generate()
    policy = load_policy("scene-edit")
    code = "x = 1\n"
    claims = build_claims(job_id="j1", code_sha256=code_sha256(code), policy=policy.name,
                          policy_digest=policy.digest, limits={}, timeout_s=5, worker_id="w1", attempt=1, ttl_s=60)
    raw = parse_claim({**GOOD, "code": code, "policy": policy.name, "policy_digest": policy.digest,
                       "claim_id": claims["jti"], "envelope": sign_claim(key, "k1", claims)})
    checker = ClaimChecker({"k1": key.public_key()}, "w1")
    assert checker.check(raw).claim_id == claims["jti"]
    with pytest.raises(ClaimRefused) as info:
        checker.check(raw)
    assert info.value.reason == "replayed"
    other = ClaimChecker({"k1": key.public_key()}, "w2")  # and an envelope for w1 is not w2's
    with pytest.raises(ClaimRefused) as info:
        other.check(raw)
    assert info.value.reason == "wrong_audience"
