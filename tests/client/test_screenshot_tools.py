"""kit_screenshot over MCP stdio (ImageContent a vision model reads) and as a LangChain tool (image block).

Real controller, real headless worker, real renderer (the package's `live` rig); the MCP side is the official
`mcp` client talking to `kitgate mcp` over stdio.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from mcp import ClientSession
from PIL import Image

from kitgate.client.langchain_tools import kit_tools

from .test_mcp_stdio import _text, _with_session

BALL = ("from pxr import UsdGeom, Gf\nball = UsdGeom.Sphere.Define(stage, '/World/ShotBall')\n"
        "ball.CreateDisplayColorAttr([Gf.Vec3f(0.1, 0.8, 0.2)])\n")


def test_mcp_kit_screenshot_returns_image_content(live) -> None:
    env = {"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(live.token_file)}

    async def body(s: ClientSession) -> dict[str, Any]:
        tools = {t.name: t for t in (await s.list_tools()).tools}
        assert "kit_screenshot" in tools and tools["kit_screenshot"].input_schema["properties"]["width"]["maximum"]
        made = await s.call_tool("kit_execute", {"code": BALL})
        assert not made.is_error, _text(made)
        shot = await s.call_tool("kit_screenshot", {"width": 160, "height": 120})
        assert not shot.is_error, _text(shot)
        images = [c for c in shot.content if c.type == "image"]
        assert len(images) == 1 and images[0].mime_type == "image/png"
        again = await s.call_tool("kit_screenshot", {"job_id": _job_id(_text(shot))})
        too_big = await s.call_tool("kit_screenshot", {"width": 2048, "height": 2048})
        return {"text": _text(shot), "png": base64.b64decode(images[0].data), "again": again, "too_big": too_big}

    out = _with_session(env, body)
    img = Image.open(io.BytesIO(out["png"]))
    assert img.format == "PNG" and img.size == (160, 120)
    colors = img.convert("RGB").getcolors(1 << 20)
    assert colors is not None and len(colors) > 10  # not blank
    assert "prim_count" in out["text"] and "image/png 160x120" in out["text"]
    assert [c.type for c in out["again"].content] == ["text", "image"]  # the same picture, by job id
    assert out["too_big"].is_error and "render_too_large" in _text(out["too_big"])
    assert live.token not in out["text"]


def _job_id(text: str) -> str:
    return text.split("(job ", 1)[1].split(")", 1)[0]


def test_langchain_kit_screenshot_returns_an_image_block_and_the_png(live) -> None:
    with live.client() as client:
        tools = {t.name: t for t in kit_tools(client)}
        tools["kit_execute"].invoke({"code": BALL})
        message = tools["kit_screenshot"].invoke(
            {"type": "tool_call", "name": "kit_screenshot", "id": "call-1", "args": {"width": 96, "height": 64}})
    blocks = message.content
    assert blocks[0]["type"] == "text" and "image/png 96x64" in blocks[0]["text"]
    assert blocks[1]["type"] == "image" and blocks[1]["mime_type"] == "image/png"
    png = base64.b64decode(blocks[1]["base64"])
    assert png == message.artifact and Image.open(io.BytesIO(png)).size == (96, 64)


def test_sdk_image_sync_and_async_and_the_not_found_reason(live) -> None:
    import anyio

    from kitgate.client.errors import KitgateError, NotFound
    from kitgate.client.sdk import AsyncKitgateClient

    with live.client() as client:
        job = client.execute(BALL, render={"width": 72, "height": 40})
        assert job.render is not None and (job.render.width, job.render.height) == (72, 40)
        assert job.result is not None and job.result.render is not None and job.result.render.ok
        png = client.image(job.id)
        plain = client.execute("result = 1\n", policy="readonly")
        with pytest.raises(NotFound) as missing:
            client.image(plain.id)
        assert missing.value.code == "image_not_found" and "did not ask for a picture" in missing.value.message
        with pytest.raises(KitgateError) as bad:  # checked by the SDK before anything is sent
            client.submit("result = 1\n", render={"width": 72, "height": "big"})
        assert bad.value.code == "invalid_render"

    async def fetch() -> bytes:
        async with AsyncKitgateClient(live.url, live.token) as aclient:
            return await aclient.image(job.id)

    assert anyio.run(fetch) == png and Image.open(io.BytesIO(png)).size == (72, 40)
