"""Live output on the client side, against the real controller and headless worker of tests/client:
the SDK's `events()`, `kitgate submit --wait`, and the MCP tools' progress notifications each show what
a job prints while it still runs (asserted by the job's state when the text is seen, never by clocks)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from typing import Any

import anyio
from harness import KITGATE, clean_env
from mcp import ClientSession, StdioServerParameters, stdio_client

from kitgate.client.models import LiveEvent
from kitgate.client.sdk import AsyncKitgateClient

# Prints, then keeps working on the wall clock (inside scene-edit's limits), then prints again.
SPIN = (
    "import datetime\n"
    "t0 = datetime.datetime.now()\n"
    "print('early bird')\n"
    "n = 0\n"
    "while (datetime.datetime.now() - t0).total_seconds() < 3.0:\n"
    "    n += 1\n"
    "print('late owl')\n"
)


def test_sdk_events_yield_typed_events_while_the_job_runs(live) -> None:
    with live.client() as c:
        job = c.submit(SPIN)
        seen: list[LiveEvent] = []
        status_at_output = None
        for ev in c.events(job.id, timeout_s=120):
            seen.append(ev)
            if ev.type == "output" and status_at_output is None:
                status_at_output = c.status(job.id).status.value
        assert status_at_output == "running"
        assert [e.type for e in seen][:3] == ["created", "claimed", "started"]
        assert seen[-1].type == "finished" and seen[-1].status == "succeeded"
        assert "".join(e.text for e in seen) == "early bird\nlate owl\n"
        # resuming after the first event replays the rest, unchanged
        again = list(c.events(job.id, last_event_id=seen[0].id, timeout_s=30))
        assert again == seen[1:]
        # another owner's job is not there
        with live.client(live.reader_token) as reader:
            from kitgate.client.errors import NotFound

            try:
                list(reader.events(job.id, timeout_s=5))
            except NotFound as err:
                assert err.code == "not_found"
            else:
                raise AssertionError("a reader of another identity watched this job")


def test_async_sdk_events(live) -> None:
    async def main() -> list[LiveEvent]:
        async with AsyncKitgateClient(live.url, live.token) as c:
            job = await c.submit("import datetime\nt0 = datetime.datetime.now()\nprint('async hello')\n"
                                 "while (datetime.datetime.now() - t0).total_seconds() < 0.6:\n    pass\n")
            return [ev async for ev in c.events(job.id, timeout_s=60)]

    events = asyncio.run(main())
    assert events[-1].status == "succeeded"
    assert "".join(e.text for e in events) == "async hello\n"


def test_cli_submit_wait_shows_output_while_the_job_runs(live, tmp_path) -> None:
    script = tmp_path / "spin.py"
    script.write_text(SPIN)
    env = clean_env({"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(live.token_file)})
    proc = subprocess.Popen([KITGATE, "submit", "--wait", str(script)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    job_id = None
    status_when_shown = None
    err_lines = []
    assert proc.stderr is not None
    for line in proc.stderr:
        err_lines.append(line)
        m = re.match(r"job (j_[0-9a-f]+) submitted", line)
        if m:
            job_id = m.group(1)
        if line.strip() == "| early bird":
            assert job_id is not None
            with live.client() as c:
                status_when_shown = c.status(job_id).status.value
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, "".join(err_lines) + out
    assert status_when_shown == "running", err_lines  # shown live, not with the result
    assert "| late owl\n" in err_lines
    assert "status: succeeded" in out and "early bird" in out  # the result itself still has all of it


def test_mcp_progress_carries_live_output(live, tmp_path) -> None:
    env = {"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(live.token_file), "KITGATE_LOG_LEVEL": "warning"}
    params = StdioServerParameters(command=KITGATE, args=["mcp", "--timeout", "120"], env=env)
    progress: list[str] = []
    job_state_at_output: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")
        m = re.match(r"job (j_[0-9a-f]+) output: early bird", message or "")
        if m and not job_state_at_output:
            async with AsyncKitgateClient(live.url, live.token) as c:
                job_state_at_output.append((await c.status(m.group(1))).status.value)

    async def main() -> Any:
        with open(tmp_path / "mcp.stderr", "w") as err:
            async with stdio_client(params, errlog=err) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                return await s.call_tool("kit_execute", {"code": SPIN}, progress_callback=on_progress)

    result = anyio.run(main)
    assert not result.is_error
    outputs = [p for p in progress if " output: " in p]
    assert outputs and outputs[0].endswith("output: early bird\n")
    assert job_state_at_output == ["running"]  # the notification came while the job ran
    assert any("late owl" in p for p in outputs)
    assert live.token not in "\n".join(progress)
