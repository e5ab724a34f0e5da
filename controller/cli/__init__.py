"""The `kitgate` command: one typer app, each command group registered from its own module."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

# Each module exposes register(app); heavy imports stay inside the commands so `kitgate --help` is quick.
_COMMAND_MODULES = (
    "kitgate.controller.cli.server",  # serve, demo, export-schema
    "kitgate.controller.cli.client_cmds",  # submit, status
    "kitgate.controller.cli.ops_cmds",  # jobs list|show|cancel|approve|reject, workers list (audit show: tokens)
    "kitgate.controller.cli.tokens",  # token create|list|revoke, apikey, audit verify
    "kitgate.controller.cli.sandbox_cmds",  # run, validate, policy test
    "kitgate.controller.cli.worker_cmds",  # worker, package-extension
    "kitgate.controller.cli.mcp_cmd",  # mcp
)


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
            from kitgate.controller.api_docs import package_version

            typer.echo(f"kitgate {package_version()}")
            raise typer.Exit(0)

    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # command group not built yet
        module.register(app)
    return app


def main() -> None:
    build_app()()
