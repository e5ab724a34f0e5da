"""`kitgate mcp`: the MCP server over stdio, or streamable HTTP on loopback with --http."""

from __future__ import annotations

from typing import Annotated

import typer


def mcp(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP instead of stdio.")] = False,
    host: Annotated[str, typer.Option("--host", help="Bind address for --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port for --http.")] = 8765,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="Allow a non-loopback --host (the MCP endpoint has no auth of its own)."),
    ] = False,
) -> None:
    """Expose kit_execute, kit_validate and the scene tools to an MCP client (KITGATE_URL, KITGATE_TOKEN[_FILE])."""
    from kitgate.client.mcp_server import is_loopback, run

    if http and not is_loopback(host) and not allow_remote:
        typer.echo(
            f"refusing to bind {host}: anyone who can reach it could use this server's token. "
            "Use a loopback address or pass --allow-remote behind your own authentication.",
            err=True,
        )
        raise typer.Exit(2)
    run(http=http, host=host, port=port)


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
