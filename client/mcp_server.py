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
from collections.abc import Callable
from typing import Any

from kitgate.client.toolkit import KitToolkit

SERVER_NAME = "kitgate"
INSTRUCTIONS = (
    "Tools for an OpenUSD / Omniverse Kit stage behind the kitgate gateway. Inspect with kit_scene_summary, "
    "kit_list_prims and kit_get_prim (read-only); change the stage with kit_execute; check code with "
    "kit_validate. If kit_execute reports violations, rewrite the script following each hint."
)


def _mcp() -> tuple[Any, type[Exception]]:
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("kitgate's MCP server needs mcp>=2: pip install 'kitgate[mcp]'") from exc
    return MCPServer, ToolError


def _as_mcp_tool(func: Callable[..., str], tool_error: type[Exception]) -> Callable[..., str]:
    """Same signature (so the same JSON schema); a result with ok=False becomes an MCP tool error."""

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> str:
        text = func(*args, **kwargs)
        if getattr(text, "ok", True) is False:
            raise tool_error(str(text))
        return str(text)

    call.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
    return call


def build_server(toolkit: KitToolkit | None = None) -> Any:
    """An MCP server with the kit tools registered; nothing is contacted yet."""
    toolkit = toolkit or KitToolkit()
    server_cls, tool_error = _mcp()
    server = server_cls(SERVER_NAME, instructions=INSTRUCTIONS)
    for spec in toolkit.specs():
        server.add_tool(_as_mcp_tool(spec.func, tool_error), name=spec.name, description=spec.description)
    return server


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(*, http: bool = False, host: str = "127.0.0.1", port: int = 8765, toolkit: KitToolkit | None = None) -> None:
    """Serve over stdio, or streamable HTTP on ``host:port`` (loopback unless the caller insists)."""
    server = build_server(toolkit)
    try:
        if http:
            server.run("streamable-http", host=host, port=port)
        else:
            server.run("stdio")
    finally:
        if toolkit is not None:
            toolkit.close()
