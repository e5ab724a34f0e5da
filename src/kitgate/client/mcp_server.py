"""MCP server (``pip install kitgate[mcp]``) exposing the same tools as the LangChain integration.

The controller URL and token come from KITGATE_URL and KITGATE_TOKEN / KITGATE_TOKEN_FILE. The
server starts and lists its tools without contacting the controller; the SDK client is made on the
first call, so an unreachable controller or a missing token turns into a clear tool error instead of
a server that will not start. The token lives only in the SDK's Authorization header: tool
descriptions, results and errors never contain it.
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import warnings
from collections.abc import Callable
from typing import Any

from kitgate.client.toolkit import KitToolkit, ToolPicture

SERVER_NAME = "kitgate"


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message is the one line naming the pip install."""

INSTRUCTIONS = (
    "Tools for an OpenUSD / Omniverse Kit stage behind the kitgate gateway. Inspect with kit_scene_summary, "
    "kit_list_prims and kit_get_prim (read-only); look at it with kit_screenshot (an image); change the stage "
    "with kit_execute; check code with kit_validate. If kit_execute reports violations, rewrite the script "
    "following each hint."
)


def _mcp() -> tuple[Any, type[Exception]]:
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra("kitgate mcp needs the MCP extra: pip install 'kitgate[mcp]'") from exc
    return MCPServer, ToolError


def _progress_sink(ctx: Any) -> Callable[[str], None]:
    """Progress lines from the tool's threads -> MCP log + progress notifications on the server's loop.

    The first line names the job id, so a client sees it while the job is still queued or running; then
    `job <id> output: <text>` lines carry what the job prints while it runs. Call it on the loop."""
    import anyio.from_thread
    import anyio.lowlevel

    count = 0
    loop = anyio.lowlevel.current_token()  # so any thread may send (the tool's, and its live-output follower)

    def sink(line: str) -> None:
        nonlocal count
        count += 1

        async def send() -> None:
            await ctx.report_progress(count, None, line)  # a no-op unless the client asked for progress
            with warnings.catch_warnings():  # MCP logging is deprecated, but many clients show only it
                warnings.simplefilter("ignore")
                await ctx.info(line)

        anyio.from_thread.run(send, token=loop)

    return sink


def _as_mcp_tool(toolkit: KitToolkit, func: Callable[..., str], tool_error: type[Exception]) -> Callable[..., Any]:
    """Same parameters (so the same JSON schema) plus the MCP Context; the blocking call runs in a thread so
    other calls and progress notifications go on; a result with ok=False becomes an MCP tool error. A tool
    that answers with a picture (kit_screenshot) returns its text and an MCP ImageContent (base64 PNG), the
    content type a vision model reads."""
    from mcp.server.mcpserver import Context
    from mcp_types import CallToolResult

    pictures = func.__name__ == "kit_screenshot"

    async def call(ctx: Context, **kwargs: Any) -> Any:
        import anyio.to_thread

        sink = _progress_sink(ctx)

        def blocking() -> str:
            with toolkit.reporting(sink):
                return func(**kwargs)

        text = await anyio.to_thread.run_sync(blocking)
        if getattr(text, "ok", True) is False:
            raise tool_error(str(text))
        if pictures:
            return _picture_result(text)
        return str(text)

    signature = inspect.signature(func, eval_str=True)
    ctx_param = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values()]
    functools.update_wrapper(call, func)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*params, ctx_param], return_annotation=CallToolResult if pictures else str)
    call.__annotations__ = {**{p.name: p.annotation for p in params}, "ctx": Context,
                            "return": CallToolResult if pictures else str}
    return call


def _picture_result(text: str) -> Any:
    """[TextContent, ImageContent] for a ToolPicture (text only when it carries no PNG)."""
    import base64

    from mcp_types import CallToolResult, ImageContent, TextContent

    content: list[Any] = [TextContent(type="text", text=str(text))]
    png = text.png if isinstance(text, ToolPicture) else None
    if png:
        content.append(ImageContent(type="image", data=base64.b64encode(png).decode("ascii"), mime_type="image/png"))
    return CallToolResult(content=content)


def build_server(toolkit: KitToolkit | None = None, log_level: str = "WARNING") -> Any:
    """An MCP server with the kit tools registered; nothing is contacted yet. Its stderr log stays quiet
    (warnings) unless asked: stdio clients show it to the user."""
    toolkit = toolkit or KitToolkit()
    server_cls, tool_error = _mcp()
    server = server_cls(SERVER_NAME, instructions=INSTRUCTIONS, log_level=log_level)
    for spec in toolkit.specs():
        server.add_tool(_as_mcp_tool(toolkit, spec.func, tool_error), name=spec.name, description=spec.description)
    return server


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(*, http: bool = False, host: str = "127.0.0.1", port: int = 8765, toolkit: KitToolkit | None = None,
        log_level: str = "WARNING") -> None:
    """Serve over stdio, or streamable HTTP on ``host:port`` (loopback unless the caller insists)."""
    server = build_server(toolkit, log_level)
    try:
        if http:
            server.run("streamable-http", host=host, port=port)
        else:
            server.run("stdio")
    finally:
        if toolkit is not None:
            toolkit.close()
