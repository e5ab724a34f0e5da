"""The agent's system prompt is generated from the real policy objects, within a size budget."""

from __future__ import annotations

from kitgate.client.agent import MAX_PROMPT_CHARS, policy_prompt
from kitgate.sandbox.policy import load_policy


def test_prompt_lists_imports_calls_and_limits() -> None:
    policy = load_policy("scene-edit").public_dict()
    text = policy_prompt(policy)
    assert "Policy in force: scene-edit" in text
    assert "- pxr.UsdGeom: " in text and "Cube" in text
    assert "- Usd.Stage: " in text and "GetPrimAtPath" in text  # most-used types survive the budget
    assert f"timeout_s={policy['limits']['timeout_s']}" in text
    assert "open" not in policy["builtins"] and ", open," not in text
    assert len(text) <= MAX_PROMPT_CHARS + 100


def test_readonly_prompt_differs() -> None:
    ro = policy_prompt(load_policy("readonly").public_dict())
    assert "Policy in force: readonly" in ro and "no Set/Create/Define" in ro
