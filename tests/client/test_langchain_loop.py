"""A real tool-calling loop: LangChain fake chat model -> kit tools -> controller -> headless worker.

The model's first script breaks the policy; the tool answers with the violation and a hint; the
model's second script is chosen *from that hint* and succeeds; the stage then shows the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from kitgate.client.agent import create_kit_agent, policy_prompt
from kitgate.client.langchain_tools import kit_tools

BAD = "import os\nos.system('touch /tmp/kitgate-agent-pwned')\n"
GOOD = (
    "from pxr import UsdGeom\n"
    "cube = UsdGeom.Cube.Define(stage, '/World/AgentCube')\n"
    "cube.GetSizeAttr().Set(3.0)\n"
    "result = str(cube.GetPath())\n"
)


class ScriptedChatModel(BaseChatModel):
    """A fake LLM: ``respond(messages)`` (written by the test) decides each turn's tool calls."""

    respond: Callable[[list[BaseMessage]], AIMessage]
    bound_tools: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self.model_copy(update={"bound_tools": [t.name for t in tools]})

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages))])


def _call(name: str, args: dict[str, Any], n: int) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call-{n}", "type": "tool_call"}])


def agent_policy(messages: list[BaseMessage]) -> AIMessage:
    tool_msgs = [m for m in messages if isinstance(m, ToolMessage)]
    if not tool_msgs:
        return _call("kit_execute", {"code": BAD}, 1)
    last = str(tool_msgs[-1].content)
    if len(tool_msgs) == 1:
        # Read the violation like a model would: the hint must steer away from `os` to the stage API.
        assert last.startswith("status: rejected"), last
        assert "line 1" in last and "hint:" in last
        hint = last.split("hint:", 1)[1]
        # the hint says what is importable and where the stage is; the next script uses exactly that
        assert "pxr.UsdGeom" in hint and "`stage`" in hint
        return _call("kit_execute", {"code": GOOD}, 2)
    if len(tool_msgs) == 2:
        assert last.startswith("status: succeeded"), last
        return _call("kit_get_prim", {"path": "/World/AgentCube"}, 3)
    return AIMessage(content="Created /World/AgentCube (size 3).")


def test_agent_recovers_from_a_violation_using_the_hint(live) -> None:
    with live.client() as client:
        llm = ScriptedChatModel(respond=agent_policy)
        agent = create_kit_agent(llm, client, policy="scene-edit")
        assert agent.llm.bound_tools == ["kit_execute", "kit_validate", "kit_scene_summary", "kit_list_prims",
                                         "kit_get_prim", "kit_screenshot"]
        run = agent.invoke("Add a cube of size 3 at /World/AgentCube.")
    assert run.output == "Created /World/AgentCube (size 3)."
    (n1, _, first), (n2, _, second), (n3, _, inspect) = run.tool_results
    assert (n1, n2, n3) == ("kit_execute", "kit_execute", "kit_get_prim")
    assert "violation" in first and "nothing ran" in first
    assert "changed prims" in second and "/World/AgentCube" in second
    assert '"type":"Cube"' in inspect and '"size":{"type":"double","value":3.0}' in inspect
    # the change is on the worker's stage: read it back through the same pipeline, and from disk
    assert live.stage_has_prim("/World/AgentCube")


def test_system_prompt_teaches_the_policy(live) -> None:
    with live.client() as client:
        policy = client.policy("scene-edit")
        prompt = policy_prompt(policy)
    assert "Policy in force: scene-edit" in prompt
    assert "pxr" in prompt and "Limits:" in prompt
    assert live.token not in prompt


def test_scene_tools_go_through_readonly_pipeline(live) -> None:
    with live.client() as client:
        tools = {t.name: t for t in kit_tools(client)}
        tools["kit_execute"].invoke({"code": "from pxr import UsdGeom\nUsdGeom.Xform.Define(stage, '/World/Lst/A')\n"
                                             "UsdGeom.Sphere.Define(stage, '/World/Lst/A/Ball')\n"})
        summary = tools["kit_scene_summary"].invoke({})
        assert '"prim_count":' in summary and '"Sphere"' in summary
        listing = tools["kit_list_prims"].invoke({"path": "/World/Lst", "depth": 2})
        assert '"/World/Lst/A/Ball"' in listing and '"type":"Sphere"' in listing
        shallow = tools["kit_list_prims"].invoke({"path": "/World/Lst", "depth": 1})
        assert "Ball" not in shallow
        assert tools["kit_get_prim"].invoke({"path": "/World/Nope"}).startswith("error: no prim at /World/Nope")
        # hostile arguments never reach a script
        assert tools["kit_get_prim"].invoke({"path": "/x'); import os; ('"}).startswith("error: invalid argument")
        assert tools["kit_list_prims"].invoke({"path": "/", "depth": 99}).startswith("error: invalid arguments")
        jobs = client.list_jobs(limit=20).jobs
        scene_jobs = [j for j in jobs if j.policy == "readonly"]
        assert len(scene_jobs) >= 4  # each scene tool call was an ordinary job under `readonly`


def test_read_only_token_cannot_execute_through_the_tool(live) -> None:
    with live.client(token=live.reader_token) as reader:
        execute = next(t for t in kit_tools(reader) if t.name == "kit_execute")
        text = execute.invoke({"code": GOOD.replace("AgentCube", "ReaderCube")})
    assert text.startswith("error: forbidden") and "not allowed" in text
    assert live.reader_token not in text
    assert not live.stage_has_prim("/World/ReaderCube")


def test_scene_tools_have_no_side_door(live) -> None:
    """A token limited to `scene-edit` cannot use the `readonly` scene scripts either: same checks apply."""
    token = live.controller.mint_token("jobs:submit", "jobs:read", policies=["scene-edit"])
    with live.client(token=token) as client:
        tools = {t.name: t for t in kit_tools(client)}
        text = tools["kit_scene_summary"].invoke({})
    assert text.startswith("error: ") and "readonly" in text
    assert token not in text


def test_agent_loop_is_bounded(live) -> None:
    """A model that never stops calling tools is cut off after max_steps, with every call recorded."""
    with live.client() as client:
        llm = ScriptedChatModel(respond=lambda msgs: _call("kit_validate", {"code": "x = 1\n"}, len(msgs)))
        run = create_kit_agent(llm, client, max_steps=3).invoke("loop forever")
    assert run.steps == 3 and run.output == "stopped after 3 steps without a final answer"
    assert [text for _, _, text in run.tool_results] == ["valid: the code compiles under policy scene-edit; "
                                                         "nothing was run"] * 3
