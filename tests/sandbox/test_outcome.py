"""JobOutcome.to_result_dict() is exactly what the controller's ExecutionResult model accepts."""

from __future__ import annotations

import pytest

from kitgate.controller.models import ExecutionResult
from kitgate.sandbox.compile.compiler import compile_source
from kitgate.sandbox.outcome import JobOutcome
from kitgate.sandbox.policy import load_policy


def test_round_trip_through_execution_result() -> None:
    outcome = JobOutcome(status="succeeded", stdout="hi\n", value={"n": 1}, changed_prims=["/World"],
                         timings={"compile_ms": 1.5, "run_ms": 2.0, "apply_ms": 0.1, "setup_ms": 9.0})
    data = outcome.to_result_dict()
    model = ExecutionResult.model_validate(data)
    assert model.status == "succeeded" and model.changed_prims == ["/World"] and model.changed_prims_total == 1
    assert set(data["timings"]) == {"compile_ms", "run_ms", "apply_ms"}


def test_rejected_outcome_carries_violations() -> None:
    compiled = compile_source("import os\nopen('x')", load_policy("scene-edit"))
    outcome = JobOutcome(status="rejected", violations=list(compiled.violations),
                         error={"type": "PolicyViolation", "message": "rejected", "line": 1, "extra": "dropped"})
    data = outcome.to_result_dict()
    model = ExecutionResult.model_validate(data)
    assert len(model.violations) == 2 and model.violations[0].rule == "import"
    assert data["error"] == {"type": "PolicyViolation", "message": "rejected", "line": 1}


def test_invalid_status_refused() -> None:
    with pytest.raises(ValueError, match="invalid job status"):
        JobOutcome(status="exploded")
