"""The `kitgate` command: one typer app, each command group registered from its own module."""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Annotated

import typer

from kitgate.cli.extras import EXIT_MISSING_EXTRA, missing_extra_line

# Each module exposes register(app); heavy imports stay inside the commands so `kitgate --help` is quick.
_COMMAND_MODULES = (
    "kitgate.cli.server",  # serve, demo, export-schema
    "kitgate.cli.client_cmds",  # submit, status
    "kitgate.cli.ops_cmds",  # jobs list|show|cancel|approve|reject, workers list (audit show: tokens)
    "kitgate.cli.tokens",  # token create|list|revoke, apikey, keys, audit verify
    "kitgate.cli.db_cmds",  # init, db migrate|status
    "kitgate.cli.sandbox_cmds",  # run, validate, policy test
    "kitgate.cli.worker_cmds",  # worker, package-extension
    "kitgate.cli.mcp_cmd",  # mcp
)


def package_version() -> str:
    """The installed distribution's version, read from its metadata (no server module is imported)."""
    try:
        return metadata.version("kitgate")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0.0.0"


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="kitgate",
        help="Security-first gateway for running Python in Omniverse Kit and on OpenUSD stages.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    @app.callback(invoke_without_command=True)
    def _root(
        version: Annotated[
            bool, typer.Option("--version", is_eager=True, help="Print kitgate's version and exit.")
        ] = False,
    ) -> None:
        if version:
            typer.echo(f"kitgate {package_version()}")
            raise typer.Exit(0)

    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


def main() -> None:
    try:
        build_app()()
    except ModuleNotFoundError as exc:  # a command without its `require(...)`: still one line, not a traceback
        hint = missing_extra_line(exc.name or "")
        if hint is None:
            raise
        typer.echo(f"kitgate: {hint}", err=True)
        raise SystemExit(EXIT_MISSING_EXTRA) from None
