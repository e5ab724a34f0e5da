"""The compact text models read: status first, cut output says how much, prims capped with a count."""

from __future__ import annotations

from kitgate.client.errors import AuthError, ConnectionFailed, PolicyViolation, RateLimited
from kitgate.client.models import JobResult, JobView, ValidateResponse, Violation
from kitgate.client.results import format_error, format_job, format_validation, format_violations


def _job(status: str, **result: object) -> JobView:
    return JobView(
        id="j1", task_id="j1", status=status, policy="scene-edit", policy_digest="sha256:x", code_sha256="y",
        labels=[], owner="me", created_at=0.0,
        result=JobResult(status=status, **result) if result or status != "queued" else None,
    )


def test_success_shows_output_value_and_capped_prims() -> None:
    prims = [f"/World/P{i}" for i in range(50)]
    text = format_job(_job("succeeded", stdout="hello\n", value={"n": 3}, changed_prims=prims[:30],
                           changed_prims_total=50))
    lines = text.splitlines()
    assert lines[0] == "status: succeeded"
    assert "hello" in text and 'value: {"n": 3}' in text
    prim_line = next(ln for ln in lines if ln.startswith("changed prims"))
    assert prim_line.startswith("changed prims (50): /World/P0, ")
    assert "/World/P19" in prim_line and "/World/P20" not in prim_line
    assert prim_line.endswith("… and 30 more")


def test_long_output_is_cut_and_says_how_much() -> None:
    out = "".join(f"line {i}\n" for i in range(2000))
    text = format_job(_job("succeeded", stdout=out, stdout_truncated=4096))
    assert len(text) < 3000
    assert "line 0" in text and "line 1999" in text  # head and tail survive
    assert f"{len(out) - 2000} characters not shown here" in text
    assert "4096 bytes cut by the sandbox's output limit" in text


def test_failure_points_at_user_line_and_says_stage_unchanged() -> None:
    text = format_job(_job("failed", error={"type": "ZeroDivisionError", "message": "division by zero", "line": 3}))
    assert "error: ZeroDivisionError at line 3: division by zero" in text
    assert "stage was left exactly as it was" in text


def test_timeout_names_the_limit() -> None:
    assert format_job(_job("timed_out", limit="timeout")).startswith("status: timed_out (limit reached: timeout)")


def test_violations_have_line_col_rule_hint() -> None:
    v = [Violation(line=2, col=4, rule="import", message="`os` is not importable", hint="use pxr instead")] * 12
    text = format_violations(v, "scene-edit")
    assert text.splitlines()[0].startswith("status: rejected by policy scene-edit: 12 violations; nothing ran")
    assert "- line 2, col 4 [import]: `os` is not importable" in text
    assert "  hint: use pxr instead" in text
    assert "2 more violations not shown" in text


def test_validation_and_error_texts() -> None:
    ok = ValidateResponse(ok=True, policy="readonly", policy_digest="d", code_sha256="c", violations=[])
    assert format_validation(ok).startswith("valid:")
    pv = PolicyViolation("x", code="policy_violation", status=422,
                         details={"violations": [{"line": 1, "col": 0, "rule": "r", "message": "m", "hint": "h"}]})
    assert "- line 1, col 0 [r]: m" in format_error(pv)
    assert "unreachable" in format_error(ConnectionFailed("could not connect", code="unreachable"))
    assert "request abc" in format_error(AuthError("bad token", code="unauthorized", request_id="abc"))
    assert "wait before trying again" in format_error(RateLimited("slow", retry_after=3))
