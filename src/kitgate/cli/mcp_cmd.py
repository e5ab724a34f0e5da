"""`kitgate mcp`: the MCP server over stdio, or streamable HTTP on loopback with --http."""

from __future__ import annotations

from typing import Annotated

import typer

from kitgate.cli.extras import require


def mcp(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP instead of stdio.")] = False,
    host: Annotated[str, typer.Option("--host", help="Bind address for --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port for --http.")] = 8765,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="Allow a non-loopback --host (the MCP endpoint has no auth of its own)."),
    ] = False,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Default worker label for every job (repeatable).")
    ] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Default policy for kit_execute.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1, max=3600, help="Seconds a tool waits.")] = 120.0,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log the MCP server's own activity to stderr.")] = False,
) -> None:
    """Expose kit_execute, kit_validate and the scene tools to an MCP client (KITGATE_URL, KITGATE_TOKEN[_FILE])."""
    require("mcp", command="mcp")
    from kitgate.client.mcp_server import is_loopback, run
    from kitgate.client.toolkit import KitToolkit

    if http and not is_loopback(host) and not allow_remote:
        typer.echo(
            f"refusing to bind {host}: anyone who can reach it could use this server's token. "
            "Use a loopback address or pass --allow-remote behind your own authentication.",
            err=True,
        )
        raise typer.Exit(2)
    _quiet_logs(verbose)
    toolkit = KitToolkit(default_policy=policy, timeout_s=timeout, labels=list(label) if label else None)
    run(http=http, host=host, port=port, toolkit=toolkit, log_level="INFO" if verbose else "WARNING")


def _quiet_logs(verbose: bool) -> None:
    """stdio MCP clients show the server's stderr to the user: only warnings unless --verbose."""
    import logging

    level = logging.INFO if verbose else logging.WARNING
    for name in ("mcp", "httpx", "uvicorn", "uvicorn.access", "uvicorn.error", "kitgate"):
        logging.getLogger(name).setLevel(level)


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
