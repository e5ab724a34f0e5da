"""Every malformed or hostile form of a signed claim is refused, with the right reason, before anything runs.

Why these tests: the worker verifies the claim with its own code (strict format check, base64url and JSON
decoding, Ed25519 over the signed bytes), not a JWT library, so each rule the library used to apply, and
each it did not, is pinned here. Tokens are built by hand (`_forge`): a valid signature over a hostile
header or payload stands for a controller bug or a parser differential; a bad one for an attacker on
the wire. A refusal is always a `ClaimError` whose reason is in `REASONS`, never another exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kitgate.protocol.claims import (
    CLOCK_SKEW_S,
    REASONS,
    ClaimError,
    ReplayWindow,
    build_claims,
    code_sha256,
    sign_claim,
    verify_claim,
)
from kitgate.protocol.wire import MAX_SIGNED_CLAIM_CHARS

CODE = "x = 1\n"
DIGEST = "d" * 64
WORKER = "w1"
KEY = Ed25519PrivateKey.generate()
KEYS: dict[str, Any] = {"k": KEY.public_key()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(**over: Any) -> dict[str, Any]:
    claims = build_claims(job_id="j1", code_sha256=code_sha256(CODE), policy="scene-edit", policy_digest=DIGEST,
                          limits={}, timeout_s=5, worker_id=WORKER, attempt=1, ttl_s=60)
    claims.update(over)
    return claims


def _forge(header: dict[str, Any] | bytes | None = None, payload: dict[str, Any] | bytes | None = None,
           key: Ed25519PrivateKey = KEY) -> str:
    """A compact JWS with a real Ed25519 signature over whatever header and payload bytes are given."""
    head = header if isinstance(header, bytes) else json.dumps(
        header if header is not None else {"alg": "EdDSA", "typ": "JWT", "kid": "k"}).encode()
    body = payload if isinstance(payload, bytes) else json.dumps(
        payload if payload is not None else _claims()).encode()
    signing_input = f"{_b64(head)}.{_b64(body)}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode('ascii')))}"


def _reason(token: Any, *, code: str = CODE, digest: str = DIGEST, worker: str = WORKER,
            keys: dict[str, Any] | None = None, seen: ReplayWindow | None = None, now: float | None = None) -> str:
    with pytest.raises(ClaimError) as info:
        verify_claim(token, KEYS if keys is None else keys, code=code, policy_digest=digest, worker_id=worker,
                     seen=seen, now=now)
    assert info.value.reason in REASONS
    return info.value.reason


def _ok(token: str, **kwargs: Any) -> dict[str, Any]:
    return verify_claim(token, KEYS, code=CODE, policy_digest=DIGEST, worker_id=WORKER, **kwargs)


def test_the_forge_helper_and_the_controller_signer_both_make_tokens_that_verify() -> None:
    assert _ok(_forge())["sub"] == "j1"
    claims = _claims()
    assert _ok(sign_claim(KEY, "k", claims)) == claims  # what controller/security/layer.py sends today


def test_the_wire_format_is_the_jws_pyjwt_makes_and_reads() -> None:
    """Old workers verify with PyJWT and old controllers signed with it: both directions still work."""
    import jwt

    claims = _claims()
    by_pyjwt = jwt.encode(dict(claims), KEY, algorithm="EdDSA", headers={"kid": "k"})
    assert sign_claim(KEY, "k", claims).split(".")[:2] == by_pyjwt.split(".")[:2]  # the same signed bytes
    assert _ok(by_pyjwt) == claims
    read_by_pyjwt = jwt.decode(sign_claim(KEY, "k", claims), KEY.public_key(), algorithms=["EdDSA"],
                               audience=WORKER, issuer="kitgate")
    assert read_by_pyjwt == claims
    assert jwt.get_unverified_header(sign_claim(KEY, "k", claims)) == {"alg": "EdDSA", "kid": "k", "typ": "JWT"}


def test_the_signer_refuses_values_json_cannot_carry() -> None:
    with pytest.raises(ValueError):
        sign_claim(KEY, "k", _claims(limits={"wall_s": float("nan")}))


# --- shape: type, size, segments, alphabet, padding ------------------------------------------------------

@pytest.mark.parametrize("token", [None, b"a.b.c", 12, ["a", "b", "c"], "", ".", "..", "a.b", "a.b.c.d", "a..c"])
def test_non_tokens_and_wrong_segment_counts_are_malformed(token: Any) -> None:
    assert _reason(token) == "malformed"


def test_an_oversized_token_is_malformed_before_any_decoding() -> None:
    good = _forge()
    head, body, sig = good.split(".")
    huge = f"{head}.{body}{'A' * (MAX_SIGNED_CLAIM_CHARS - len(good) + 4)}.{sig}"
    assert len(huge) > MAX_SIGNED_CLAIM_CHARS
    assert _reason(huge) == "malformed"


def _edit_segment(index: int, edit: Callable[[str], str]) -> str:
    parts = _forge().split(".")
    parts[index] = edit(parts[index])
    return ".".join(parts)


@pytest.mark.parametrize("index", [0, 1, 2])
@pytest.mark.parametrize("edit", [
    lambda s: s + "=",                      # padding is not part of compact JWS base64url
    lambda s: s + "==",
    lambda s: s[:4] + "+" + s[5:],          # the other base64 alphabet
    lambda s: s[:4] + "/" + s[5:],
    lambda s: s[:4] + "!" + s[4:],          # not base64 at all (a lenient decoder skips it)
    lambda s: s[:4] + " " + s[4:],
    lambda s: s + "\n",
    lambda s: s[:4] + "\x00" + s[4:],
    lambda s: s[:4] + "\uff21" + s[4:],     # FULLWIDTH A: NFKC-equal to "A"
    lambda s: s[:4] + "\u0410" + s[5:],     # CYRILLIC A instead of a letter
    lambda s: s[:-1],                       # drops a character: the length is wrong or the bytes differ
], ids=["pad1", "pad2", "plus", "slash", "bang", "space", "newline", "nul", "fullwidth", "cyrillic", "short"])
def test_every_segment_must_be_strict_base64url(index: int, edit: Callable[[str], str]) -> None:
    token = _edit_segment(index, edit)
    reason = _reason(token)
    # a header that no longer decodes is malformed; a changed payload or signature no longer verifies
    assert reason in ({"malformed"} if index == 0 else {"malformed", "bad_signature"})


def test_a_signature_of_the_wrong_length_is_refused() -> None:
    head, body, sig = _forge().split(".")
    raw = base64.urlsafe_b64decode(sig + "==")
    for bad in (raw[:63], raw + b"\x00", b"", raw[:32]):
        token = f"{head}.{body}.{_b64(bad)}"
        assert _reason(token) in ({"unsigned"} if not bad else {"bad_signature", "malformed"})


def test_a_non_canonical_signature_encoding_is_refused() -> None:
    """86 base64url characters carry 516 bits; the last 4 must be zero, or one signature has 16 spellings."""
    head, body, sig = _forge().split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    twin = sig[:-1] + alphabet[last | 1]
    assert twin != sig and base64.urlsafe_b64decode(twin + "==") == base64.urlsafe_b64decode(sig + "==")
    assert _reason(f"{head}.{body}.{twin}") in {"malformed", "bad_signature"}


# --- header: alg pinned, key chosen by kid only, no extensions ----------------------------------------------

@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_unsigned_with_or_without_a_signature(alg: str) -> None:
    head = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "k"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    assert _reason(f"{head}.{body}.") == "unsigned"
    assert _reason(_forge({"alg": alg, "typ": "JWT", "kid": "k"})) == "unsigned"


def test_an_empty_signature_is_unsigned() -> None:
    head, body, _ = _forge().split(".")
    assert _reason(f"{head}.{body}.") == "unsigned"


def test_hs256_signed_with_the_public_key_bytes_is_refused() -> None:
    """The classic confusion: an HMAC 'signed' with the verifier's public key. The algorithm is pinned."""
    secret = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert _reason(f"{head}.{body}.{_b64(mac)}") == "bad_signature"


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "PS256", "Ed25519", "eddsa", "EDDSA", "EdDSA ",
                                 "\u0415dDSA", ["EdDSA"], 1, True])
def test_any_algorithm_but_eddsa_is_refused(alg: Any) -> None:
    assert _reason(_forge({"alg": alg, "typ": "JWT", "kid": "k"})) in {"bad_signature", "malformed"}


def test_a_missing_alg_is_refused() -> None:
    assert _reason(_forge({"typ": "JWT", "kid": "k"})) in {"unsigned", "malformed"}


@pytest.mark.parametrize("kid", [None, "", "K", "k ", "\uff4b", 1, ["k"], {"k": 1}])
def test_an_unknown_or_odd_kid_is_refused(kid: Any) -> None:
    header = {"alg": "EdDSA", "typ": "JWT"} if kid is None else {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    assert _reason(_forge(header)) in {"unknown_key", "malformed"}


def test_a_key_signed_by_an_untrusted_key_under_a_trusted_kid_is_refused() -> None:
    assert _reason(_forge(key=Ed25519PrivateKey.generate())) == "bad_signature"


def test_a_kid_mapped_to_a_key_of_another_type_is_refused() -> None:
    rsa_public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert _reason(_forge(), keys={"k": rsa_public}) in {"unknown_key", "bad_signature", "malformed"}


@pytest.mark.parametrize("extra", [
    {"crit": ["exp"]},
    {"crit": ["b64"], "b64": False},
    {"b64": False},
    {"crit": []},
    {"crit": "exp"},
])
def test_header_extensions_and_crit_are_refused(extra: dict[str, Any]) -> None:
    assert _reason(_forge({"alg": "EdDSA", "typ": "JWT", "kid": "k", **extra})) == "malformed"


@pytest.mark.parametrize("header", [
    b"not json", b"[]", b'"EdDSA"', b"null", b"", b'{"alg": "EdDSA", "kid": "k"',
    b'{"alg": "EdDSA", "kid": "k", "alg": "none"}',   # duplicate key: which one wins depends on the parser
    b'{"alg": "none", "kid": "k", "alg": "EdDSA"}',
    b"\xef\xbb\xbf" + b'{"alg": "EdDSA", "typ": "JWT", "kid": "k"}',  # UTF-8 BOM
    '{"alg": "EdDSA", "typ": "JWT", "kid": "k"}'.encode("utf-16"),
    b'{"alg": "EdDSA", "typ": "JWT", "kid": "k\xff"}',  # not UTF-8
])
def test_an_unreadable_or_ambiguous_header_is_refused(header: bytes) -> None:
    assert _reason(_forge(header)) in {"malformed", "unsigned", "bad_signature"}


# --- signature over the exact bytes -----------------------------------------------------------------------

def test_a_tampered_payload_or_header_does_not_verify() -> None:
    head, body, sig = _forge().split(".")
    other = _b64(json.dumps(_claims(aud="w2")).encode())
    assert _reason(f"{head}.{other}.{sig}") == "bad_signature"
    swapped = _b64(json.dumps({"kid": "k", "typ": "JWT", "alg": "EdDSA"}).encode())  # same meaning, other bytes
    assert _reason(f"{swapped}.{body}.{sig}") == "bad_signature"


def test_a_flipped_signature_bit_does_not_verify() -> None:
    head, body, sig = _forge().split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    for i in (0, 31, 63):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        assert _reason(f"{head}.{body}.{_b64(bytes(flipped))}") == "bad_signature"


# --- payload: JSON object, required claims, types ---------------------------------------------------------

@pytest.mark.parametrize("payload", [
    b"not json", b"[]", b"1", b'"claims"', b"null", b"",
    b"\xef\xbb\xbf" + json.dumps(_claims()).encode(),   # UTF-8 BOM
    json.dumps(_claims()).encode("utf-16"),            # a JSON parser that sniffs encodings reads this
    json.dumps(_claims()).encode()[:-1],
])
def test_a_signed_payload_that_is_not_a_utf8_json_object_is_malformed(payload: bytes) -> None:
    assert _reason(_forge(payload=payload)) == "malformed"


def test_duplicate_payload_keys_are_refused() -> None:
    """`{"aud": "w2", "aud": "w1"}`: a verifier that keeps the first key and one that keeps the last disagree."""
    text = json.dumps(_claims())
    dup = text[:-1] + ', "aud": "w1"}'
    assert json.loads(dup)["aud"] == WORKER
    assert _reason(_forge(payload=dup.replace('"aud": "w1", ', '"aud": "w2", ', 1).encode())) == "malformed"


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss", "jti", "sub"])
def test_each_required_claim_must_be_present(claim: str) -> None:
    claims = _claims()
    del claims[claim]
    assert _reason(_forge(payload=claims)) == "malformed"


@pytest.mark.parametrize("claim,value", [
    ("exp", "soon"), ("exp", None), ("exp", [1]), ("exp", float("nan")), ("exp", float("inf")),
    ("iat", "now"), ("iat", None), ("iat", float("nan")),
    ("jti", 1), ("jti", None), ("sub", 1), ("sub", ["j1"]), ("iss", "other"), ("iss", None), ("iss", ["kitgate"]),
])
def test_claims_of_the_wrong_type_or_value_are_malformed(claim: str, value: Any) -> None:
    assert _reason(_forge(payload=_claims(**{claim: value}))) == "malformed"


def test_nbf_and_iat_in_the_future_are_refused() -> None:
    later = int(time.time()) + 10 * CLOCK_SKEW_S
    assert _reason(_forge(payload=_claims(iat=later, exp=later + 60))) == "malformed"
    assert _reason(_forge(payload=_claims(nbf=later))) == "malformed"
    assert _ok(_forge(payload=_claims(nbf=int(time.time()) - 1)))["sub"] == "j1"


# --- what the claim says: audience, expiry, code, policy, replay -----------------------------------------

@pytest.mark.parametrize("aud", ["w2", "W1", "w1 ", "\uff57\uff11", "", ["w2"], 1])
def test_another_audience_is_refused(aud: Any) -> None:
    assert _reason(_forge(payload=_claims(aud=aud))) in {"wrong_audience", "malformed"}


def test_an_audience_list_is_refused_even_when_it_names_this_worker() -> None:
    """The controller signs one worker id; a list would let one claim serve several workers."""
    assert _reason(_forge(payload=_claims(aud=[WORKER, "w2"]))) in {"wrong_audience", "malformed"}


def test_expiry_is_checked_against_the_clock_with_the_skew() -> None:
    token = _forge(payload=_claims(exp=1_000_000, iat=999_000))
    assert _ok(token, now=1_000_000 + CLOCK_SKEW_S)["exp"] == 1_000_000
    assert _reason(token, now=1_000_000 + CLOCK_SKEW_S + 1) == "expired"


def test_code_and_policy_digest_must_match_what_was_signed() -> None:
    token = _forge()
    assert _reason(token, code=CODE + " ") == "code_mismatch"
    assert _reason(token, code="x = 1\r\n") == "code_mismatch"
    assert _reason(token, digest=DIGEST.upper()) == "policy_mismatch"
    assert _reason(_forge(payload=_claims(code_sha256=code_sha256(CODE).upper()))) == "code_mismatch"
    assert _reason(_forge(payload=_claims(policy_digest=None))) == "policy_mismatch"


def test_code_that_cannot_be_utf8_is_a_code_mismatch_not_a_crash() -> None:
    """The code field is not signed: JSON can carry a lone surrogate ("\\ud800") that UTF-8 cannot encode."""
    assert _reason(_forge(), code="x = '\ud800'\n") == "code_mismatch"


def test_a_claim_is_accepted_once_per_replay_window() -> None:
    seen = ReplayWindow()
    token = _forge()
    assert _ok(token, seen=seen)["jti"]
    assert _reason(token, seen=seen) == "replayed"
    # the same claim id under a fresh signature (another serialisation) is still a replay
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    again = _forge({"kid": "k", "alg": "EdDSA", "typ": "JWT"}, claims)
    assert _reason(again, seen=seen) == "replayed"


def test_a_refused_claim_does_not_use_up_its_claim_id() -> None:
    seen = ReplayWindow()
    token = _forge()
    assert _reason(token, seen=seen, code="y = 2\n") == "code_mismatch"
    assert _ok(token, seen=seen)["sub"] == "j1"


def test_mutated_tokens_raise_only_claim_errors_and_never_verify() -> None:
    """Seeded mutations of a valid token (character edits, splices, re-signed random payload bytes):
    each one is refused with a ClaimError, never another exception, and never accepted."""
    import random

    rng = random.Random(18)
    good = _forge()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00\u00e9\uff21"
    for _ in range(1500):
        chars = list(good)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(chars))
            op = rng.random()
            if op < 0.5:
                chars[i] = rng.choice(alphabet)
            elif op < 0.75:
                del chars[i]
            else:
                chars.insert(i, rng.choice(alphabet))
        token = "".join(chars)
        if token == good:
            continue
        _reason(token)
    for _ in range(300):
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        _reason(_forge(payload=body))
        _reason(_forge(header=body))
