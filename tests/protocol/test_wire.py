"""Statuses, the result normaliser and the signed claim: one definition each, used by every side."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kitgate.protocol import REPORTABLE_STATUSES, TERMINAL_STATUSES, JobStatus
from kitgate.protocol.claims import (
    REASONS,
    ClaimError,
    ReplayWindow,
    build_claims,
    code_sha256,
    sign_claim,
    verify_claim,
)
from kitgate.protocol.results import normalise_result
from kitgate.protocol.wire import MAX_CHANGED_PRIMS, MAX_STDOUT_CHARS


def test_status_sets() -> None:
    assert REPORTABLE_STATUSES < TERMINAL_STATUSES
    assert {s for s in JobStatus if not s.terminal} == {JobStatus.pending_approval, JobStatus.queued,
                                                       JobStatus.running}
    assert JobStatus.failed == "failed" and "lost" in TERMINAL_STATUSES and "lost" not in REPORTABLE_STATUSES


def test_the_controller_and_the_store_use_the_protocol_statuses() -> None:
    from kitgate.controller import store
    from kitgate.controller.models import REPORTABLE_STATUSES as MODEL_REPORTABLE
    from kitgate.controller.models import ExecutionStatus
    from kitgate.sandbox import outcome

    assert [s.value for s in ExecutionStatus] == [s.value for s in JobStatus]
    assert MODEL_REPORTABLE == REPORTABLE_STATUSES and store.TERMINAL is TERMINAL_STATUSES
    assert outcome.STATUSES is REPORTABLE_STATUSES


def test_normaliser_caps_and_falls_back() -> None:
    data = {"status": "cancelled", "stdout": "é" * (MAX_STDOUT_CHARS + 10), "stdout_truncated": 3,
            "error": {"type": "T" * 500, "message": "m", "line": True, "extra": 1},
            "changed_prims": [f"/P{i}" for i in range(MAX_CHANGED_PRIMS + 5)], "limit": "x" * 100,
            "violations": [{"line": 1, "col": 0, "rule": "r", "message": "m", "hint": "h", "secret": 1}, "junk"],
            "timings": {"run_ms": 1, "setup_ms": 2, "compile_ms": float("nan"), "apply_ms": True}, "unknown": 1}
    out = normalise_result(data)
    assert out["status"] == "failed"  # a worker may not report `cancelled`
    assert len(out["stdout"]) == MAX_STDOUT_CHARS and out["stdout_truncated"] == 3 + 20  # 10 two-byte chars cut
    assert out["error"] == {"type": "T" * 200, "message": "m", "line": None}
    assert len(out["changed_prims"]) == MAX_CHANGED_PRIMS and out["changed_prims_total"] == MAX_CHANGED_PRIMS + 5
    assert len(out["limit"]) == 64
    assert out["violations"] == [{"line": 1, "col": 0, "rule": "r", "message": "m", "hint": "h"}]
    assert out["timings"] == {"run_ms": 1.0}
    assert "unknown" not in out


def test_the_worker_normalises_a_result_once_and_the_controller_accepts_it() -> None:
    from kitgate.controller.models import ExecutionResult
    from kitgate.sandbox.outcome import JobOutcome
    from kitgate.worker.results import build_result, outcome_fields

    outcome = JobOutcome(status="succeeded", stdout="hi", changed_prims=["/A"], timings={"run_ms": 2.0})
    result = build_result(outcome_fields(outcome), claim_id="c", worker_id="w", claimed_at=1.0, started_at=2.0)
    assert result == {**outcome.to_result_dict(), "claim_id": "c", "worker_id": "w",
                      "timings": {"run_ms": 2.0, "claimed_at": 1.0, "started_at": 2.0,
                                  "finished_at": result["timings"]["finished_at"]}}
    ExecutionResult.model_validate(result)


def _signed(key: Ed25519PrivateKey, code: str = "x = 1\n", **over: object) -> tuple[str, dict]:
    claims = build_claims(job_id="j", code_sha256=code_sha256(code), policy="scene-edit", policy_digest="d",
                          limits={}, timeout_s=5, worker_id="w", attempt=1, ttl_s=60)
    claims.update(over)
    return sign_claim(key, "k", claims), claims


def test_a_signed_claim_verifies_once_and_only_for_its_worker_code_and_policy() -> None:
    key = Ed25519PrivateKey.generate()
    keys = {"k": key.public_key()}
    token, claims = _signed(key)
    seen = ReplayWindow()
    verified = verify_claim(token, keys, code="x = 1\n", policy_digest="d", worker_id="w", seen=seen)
    assert verified["jti"] == claims["jti"]
    cases = [
        (dict(code="x = 2\n", policy_digest="d", worker_id="w"), "code_mismatch"),
        (dict(code="x = 1\n", policy_digest="e", worker_id="w"), "policy_mismatch"),
        (dict(code="x = 1\n", policy_digest="d", worker_id="other"), "wrong_audience"),
        (dict(code="x = 1\n", policy_digest="d", worker_id="w", seen=seen), "replayed"),
    ]
    for kwargs, reason in cases:
        with pytest.raises(ClaimError) as info:
            verify_claim(token, keys, **kwargs)
        assert info.value.reason == reason and reason in REASONS
    stale, _ = _signed(key, exp=int(time.time()) - 3600)
    with pytest.raises(ClaimError) as info:
        verify_claim(stale, keys, code="x = 1\n", policy_digest="d", worker_id="w")
    assert info.value.reason == "expired"
    foreign, _ = _signed(Ed25519PrivateKey.generate())
    with pytest.raises(ClaimError) as info:
        verify_claim(foreign, keys, code="x = 1\n", policy_digest="d", worker_id="w")
    assert info.value.reason == "bad_signature"
