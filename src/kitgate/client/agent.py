"""A ready tool-calling agent over the kit tools, with a system prompt generated from the policy.

Models write better first attempts when they know the rules, so the prompt is built from
``GET /v1/policies/{name}`` (what the policy lets a script import and call, and its limits) rather than
from prose that can drift from the real policy. The loop itself is deliberately small: ask the
model, run the tool calls it makes, feed the results back, stop when it answers without tools or
after ``max_steps``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kitgate.client.langchain_tools import kit_tools
from kitgate.client.sdk import KitgateClient
from kitgate.client.toolkit import KitToolkit

MAX_LIST_ITEMS = 40
MAX_PROMPT_CHARS = 12_000

_RULES = """You operate on an OpenUSD stage (Omniverse Kit or a headless worker) through the kitgate gateway.
Write small Python scripts and run them with kit_execute. Rules:
- The stage is the global `stage`. Import USD modules with `from pxr import ...` (only what is listed below).
- Return data by assigning `result = ...` (JSON-friendly values); print() output is captured and capped.
- No files, network, subprocesses, eval/exec, or names starting with an underscore.
- If a tool answers with violations, rewrite the script following each hint; do not retry the same code.
- Inspect before you edit: kit_scene_summary, kit_list_prims, kit_get_prim are read-only and cheap.
- To see the scene (and check an edit), call kit_screenshot: it returns a picture of the stage.
- A failed job changes nothing, so it is safe to fix and resubmit."""


def _names(items: Any, limit: int = MAX_LIST_ITEMS) -> str:
    names = [str(x) for x in (items or [])]
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f", … ({len(names) - limit} more)"
    return shown or "(nothing)"


def _short(qualname: str) -> str:
    return qualname.removeprefix("pxr.")


_FIRST_TYPES = ("pxr.Usd.Stage", "pxr.Usd.Prim", "pxr.Usd.Attribute", "pxr.UsdGeom.Xformable", "pxr.Sdf.Path")


def _type_rank(qualname: str) -> tuple[int, str]:
    """The types nearly every scene script touches go first, so truncation drops the exotic ones."""
    if qualname in _FIRST_TYPES:
        return (0, f"{_FIRST_TYPES.index(qualname):02d}")
    if qualname.startswith(("pxr.Usd.", "pxr.UsdGeom.", "pxr.Gf.")):
        return (1, qualname)
    if qualname.startswith("pxr."):
        return (2, qualname)
    return (3, qualname)


def policy_prompt(policy: dict[str, Any]) -> str:
    """System prompt text for one policy, from its public description (GET /v1/policies/{name}).

    Most useful first (imports, builtins, limits), then the per-type method lists, cut to a size
    budget: a prompt that overflows a small model's context helps nobody.
    """
    lines = [_RULES, "", f"Policy in force: {policy.get('name', '?')}"]
    if policy.get("description"):
        lines.append(f"About it: {policy['description']}")
    if policy.get("mode"):
        lines.append(f"Execution mode: {policy['mode']}")
    if policy.get("requires_approval"):
        lines.append("Jobs under this policy wait for an operator's approval before they run.")
    modules = policy.get("modules") or {}
    if isinstance(modules, dict) and modules:
        lines.append("Imports allowed (module: names you may use from it):")
        for mod, names in modules.items():
            lines.append(f"- {mod}: {_names(names)}")
    else:
        lines.append("Imports allowed: none.")
    lines.append(f"Builtins available: {_names(policy.get('builtins'), 200)}")
    limits = policy.get("limits")
    if isinstance(limits, dict) and limits:
        lines.append("Limits: " + ", ".join(f"{k}={v}" for k, v in limits.items() if v is not None))
    if policy.get("asset_roots_count") == 0:
        lines.append("No asset paths are readable: do not reference external files.")
    types = policy.get("types") or {}
    if isinstance(types, dict) and types:
        lines.append("Methods and attributes you may use, per type (anything else is refused):")
        for qual, rule in sorted(types.items(), key=lambda kv: _type_rank(kv[0])):
            attrs = rule.get("attributes") if isinstance(rule, dict) else rule
            line = f"- {_short(qual)}: {_names(attrs, 100 if _type_rank(qual)[0] == 0 else MAX_LIST_ITEMS)}"
            if isinstance(rule, dict) and rule.get("settable"):
                line += f" (settable: {_names(rule['settable'])})"
            lines.append(line)
    text = "\n".join(lines)
    if len(text) > MAX_PROMPT_CHARS:
        text = text[:MAX_PROMPT_CHARS] + "\n… (policy description truncated; GET /v1/policies/{name} has it all)"
    return text


@dataclass
class AgentRun:
    """What one ``KitAgent.invoke`` did: the final answer, every message, and each tool call's result."""

    output: str
    messages: list[Any]
    tool_results: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    steps: int = 0


class ToolCallingUnsupported(TypeError):
    """The chat model cannot be given tools; the message names the model class and what it lacks."""


def bind_tools(llm: Any, tools: list[Any]) -> Any:
    """Any LangChain chat model with tool calling works; one without gets one clear error, not a bare
    NotImplementedError from deep inside LangChain (BaseChatModel.bind_tools raises that by default)."""
    name = type(llm).__name__
    if not callable(getattr(llm, "bind_tools", None)):
        raise ToolCallingUnsupported(
            f"{name} has no bind_tools(): create_kit_agent needs a LangChain chat model that supports tool "
            "calling (for example ChatOpenAI, ChatAnthropic, ChatOllama with a tool-capable model)")
    try:
        return llm.bind_tools(tools)
    except NotImplementedError:
        raise ToolCallingUnsupported(
            f"{name}.bind_tools() is not implemented: this chat model does not support tool calling, which "
            "create_kit_agent needs; use a model class that implements bind_tools") from None


class KitAgent:
    def __init__(self, llm: Any, tools: list[Any], system_prompt: str, *, max_steps: int = 8) -> None:
        self.llm = bind_tools(llm, tools)
        self.tools = {t.name: t for t in tools}
        self.system_prompt = system_prompt
        self.max_steps = max_steps

    def invoke(self, task: str) -> AgentRun:
        from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage

        messages: list[Any] = [SystemMessage(self.system_prompt), HumanMessage(task)]
        run = AgentRun(output="", messages=messages)
        for step in range(1, self.max_steps + 1):
            run.steps = step
            ai = self.llm.invoke(messages)
            messages.append(ai)
            calls = getattr(ai, "tool_calls", None) or []
            if not calls:
                run.output = ai.content if isinstance(ai.content, str) else json.dumps(ai.content)
                return run
            for call in calls:
                name, args = call["name"], call.get("args") or {}
                call_id = call.get("id") or name
                tool = self.tools.get(name)
                if tool is None:
                    text = f"error: unknown tool {name!r}; available: {', '.join(sorted(self.tools))}"
                else:
                    text = str(tool.invoke(args))
                run.tool_results.append((name, args, text))
                messages.append(ToolMessage(content=text, tool_call_id=call_id, name=name))
        run.output = f"stopped after {self.max_steps} steps without a final answer"
        return run


def create_kit_agent(
    llm: Any,
    client: KitgateClient | None = None,
    *,
    policy: str = "scene-edit",
    timeout_s: float = 120.0,
    max_steps: int = 8,
    extra_instructions: str | None = None,
) -> KitAgent:
    """A tool-calling agent whose kit_execute runs under ``policy`` and whose prompt explains it."""
    client = client or KitgateClient()
    toolkit = KitToolkit(client, default_policy=policy, timeout_s=timeout_s)
    prompt = policy_prompt(client.policy(policy))
    if extra_instructions:
        prompt += "\n\n" + extra_instructions
    return KitAgent(llm, kit_tools(toolkit), prompt, max_steps=max_steps)
