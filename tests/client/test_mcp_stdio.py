"""`kitgate mcp` driven by the official `mcp` client: stdio and HTTP subprocesses, plus in-process checks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from harness import KITGATE
from mcp import Client, ClientSession, StdioServerParameters, stdio_client

from kitgate.client.config import read_token_file
from kitgate.client.mcp_server import build_server
from kitgate.client.sdk import KitgateClient
from kitgate.client.toolkit import KitToolkit

TOOLS = ["kit_execute", "kit_validate", "kit_scene_summary", "kit_list_prims", "kit_get_prim", "kit_screenshot"]
BAD = "import subprocess\nsubprocess.run(['id'])\n"
GOOD = "from pxr import UsdGeom\nUsdGeom.Sphere.Define(stage, '/World/McpBall')\nresult = 'ok'\n"


def _with_session(env: dict[str, str], body: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    params = StdioServerParameters(command=KITGATE, args=["mcp"], env={"KITGATE_LOG_LEVEL": "warning", **env})

    async def main() -> Any:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    return anyio.run(main)


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def test_list_then_violation_then_success(live) -> None:
    env = {"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(live.token_file)}

    async def body(s: ClientSession) -> None:
        tools = (await s.list_tools()).tools
        assert [t.name for t in tools] == TOOLS
        schemas = {t.name: t.input_schema for t in tools}
        assert schemas["kit_execute"]["required"] == ["code"]
        assert schemas["kit_list_prims"]["properties"]["depth"]["maximum"] == 8
        listing = json.dumps([t.model_dump(mode="json") for t in tools])
        assert live.token not in listing

        bad = await s.call_tool("kit_execute", {"code": BAD})
        assert bad.is_error
        text = _text(bad)
        assert "status: rejected" in text and "line 1" in text and "hint:" in text

        good = await s.call_tool("kit_execute", {"code": GOOD})
        assert not good.is_error, _text(good)
        assert "status: succeeded" in _text(good) and "/World/McpBall" in _text(good)

        prim = await s.call_tool("kit_get_prim", {"path": "/World/McpBall"})
        assert '"type":"Sphere"' in _text(prim)

        bad_args = await s.call_tool("kit_list_prims", {"path": "/World", "depth": 50})
        assert bad_args.is_error
        for r in (bad, good, prim, bad_args):
            assert live.token not in _text(r)

    _with_session(env, body)
    assert live.stage_has_prim("/World/McpBall")


def test_starts_and_lists_tools_while_controller_is_down(free_port: int) -> None:
    secret = "kgt-secret-should-never-show-0123456789"
    env = {"KITGATE_URL": f"http://127.0.0.1:{free_port}", "KITGATE_TOKEN": secret}

    async def body(s: ClientSession) -> None:
        tools = (await s.list_tools()).tools
        assert [t.name for t in tools] == TOOLS
        r = await s.call_tool("kit_execute", {"code": "x = 1\n"})
        assert r.is_error
        text = _text(r)
        assert "unreachable" in text and f"127.0.0.1:{free_port}" in text
        assert secret not in text and secret not in json.dumps([t.model_dump(mode="json") for t in tools])

    _with_session(env, body)


def _in_process(toolkit: KitToolkit, body: Callable[[Client], Awaitable[Any]]) -> Any:
    """The same server object `kitgate mcp` builds, over the SDK's in-memory transport (no spawn)."""

    async def main() -> Any:
        async with Client(build_server(toolkit)) as client:
            return await body(client)

    return anyio.run(main)


def test_missing_token_is_a_clear_tool_error(tmp_path) -> None:
    def factory() -> KitgateClient:
        return KitgateClient("http://127.0.0.1:9", read_token_file(tmp_path / "missing.token"))

    async def body(c: Client) -> None:
        assert [t.name for t in (await c.list_tools()).tools] == TOOLS
        r = await c.call_tool("kit_scene_summary", {})
        assert r.is_error and "not configured" in _text(r) and "cannot be read" in _text(r)

    _in_process(KitToolkit(client_factory=factory), body)


def test_read_only_token_cannot_execute(live) -> None:
    async def body(c: Client) -> None:
        r = await c.call_tool("kit_execute", {"code": GOOD.replace("McpBall", "McpReader")})
        assert r.is_error and "forbidden" in _text(r) and live.reader_token not in _text(r)

    _in_process(KitToolkit(live.client(token=live.reader_token)), body)
    assert not live.stage_has_prim("/World/McpReader")


def test_streamable_http_on_loopback(live, free_port: int) -> None:
    import socket
    import subprocess
    import time

    from harness import clean_env
    from mcp.client.streamable_http import streamable_http_client

    env = clean_env({"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(live.token_file)})
    proc = subprocess.Popen([KITGATE, "mcp", "--http", "--port", str(free_port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", free_port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "mcp --http did not start"
                time.sleep(0.1)

        async def main() -> None:
            async with streamable_http_client(f"http://127.0.0.1:{free_port}/mcp") as (read, write), \
                    ClientSession(read, write) as s:
                await s.initialize()
                assert [t.name for t in (await s.list_tools()).tools] == TOOLS
                r = await s.call_tool("kit_validate", {"code": BAD})
                assert "status: rejected" in _text(r) and live.token not in _text(r)

        anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(15)
        if proc.stderr is not None:
            proc.stderr.close()
