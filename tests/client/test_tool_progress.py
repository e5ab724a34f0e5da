"""Agent tools name the job at once and say what it waits for (MCP over stdio, LangChain), honour labels,
and cancel a job that has not started when their wait ends; `kitgate mcp` keeps stderr quiet."""

from __future__ import annotations

import re
from typing import Any

import anyio
from harness import KITGATE
from mcp import ClientSession, StdioServerParameters, stdio_client

from kitgate.client.toolkit import KitToolkit
from kitgate.protocol.status import JobStatus

NOBODY = "label-nobody-offers"


def test_mcp_progress_names_the_job_then_cancels_on_timeout(live, tmp_path) -> None:
    env = {"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(live.token_file), "KITGATE_LOG_LEVEL": "warning"}
    params = StdioServerParameters(command=KITGATE, args=["mcp", "--label", NOBODY, "--timeout", "2"], env=env)
    logs: list[str] = []
    errlog = tmp_path / "mcp.stderr"

    progress: list[str] = []

    async def on_log(params: Any) -> None:
        logs.append(str(params.data))

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async def main() -> str:
        with open(errlog, "w") as err:
            async with stdio_client(params, errlog=err) as (read, write), \
                    ClientSession(read, write, logging_callback=on_log) as s:
                await s.initialize()
                result = await s.call_tool("kit_execute", {"code": "x = 1\n"}, progress_callback=on_progress)
                assert result.is_error
                return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")

    text = anyio.run(main)
    job_id = re.search(r"job: (j_[0-9a-f]+)", text).group(1)
    assert logs and logs[0].startswith(f"job {job_id}: queued at position")  # the id, before the result
    assert f"0 with labels {NOBODY}" in logs[0]  # --label became the job's label
    assert progress and progress[0] == logs[0]  # the same line as an MCP progress notification
    assert "status: cancelled" in text and "cannot run later" in text
    with live.client() as c:
        assert c.status(job_id).status is JobStatus.cancelled
    assert errlog.read_text().strip() == ""  # quiet unless --verbose
    assert live.token not in text + "\n".join(logs)


def test_langchain_tool_emits_progress_events_and_takes_labels(live) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    from kitgate.client.langchain_tools import kit_tools

    events: list[str] = []

    class Collect(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            if name == "kitgate_progress":
                events.append(data["line"])

    toolkit = KitToolkit(live.client(), timeout_s=2)
    try:
        tool = {t.name: t for t in kit_tools(toolkit)}["kit_execute"]
        assert "labels" in tool.args
        text = tool.invoke({"code": "x = 2\n", "labels": [NOBODY]}, config={"callbacks": [Collect()]})
    finally:
        toolkit.close()
    job_id = re.search(r"job: (j_[0-9a-f]+)", text).group(1)
    assert events and events[0].startswith(f"job {job_id}: queued")
    assert text.startswith("status: cancelled")


def test_results_name_the_worker(live) -> None:
    toolkit = KitToolkit(live.client(), timeout_s=60)
    try:
        text = toolkit.kit_execute("result = 3\n")
    finally:
        toolkit.close()
    assert text.startswith("status: succeeded") and re.search(r"^worker: \S+", text, re.M)
