"""`kitgate serve`, `kitgate demo`, `kitgate export-schema`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def settings_error_line(exc: Exception) -> str:
    """One line per bad setting, naming the environment variable, never echoing secret values."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            if not loc:  # a check across several settings names them in its message
                parts.append(str(err.get("msg")).removeprefix("Value error, "))
                continue
            field = ".".join(str(p) for p in loc)
            parts.append(f"{field} (KITGATE_{str(loc[0]).upper()}): {err.get('msg')}")
        return "invalid configuration: " + "; ".join(parts)
    return f"invalid configuration: {exc}"


def load_settings(**overrides: object) -> object:
    from kitgate.controller.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:  # pydantic ValidationError is a ValueError
        typer.echo(f"kitgate: {settings_error_line(exc)}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option(help="bind address (KITGATE_HOST, default 127.0.0.1)")] = None,
        port: Annotated[int | None, typer.Option(help="port; 0 picks a free one (KITGATE_PORT, default 8750)")] = None,
        data_dir: Annotated[Path | None, typer.Option(help="SQLite, keys, admin token (KITGATE_DATA_DIR)")] = None,
        port_file: Annotated[Path | None, typer.Option(help="write the bound port here once serving")] = None,
        tls_cert: Annotated[Path | None, typer.Option(help="PEM cert chain: serve HTTPS (KITGATE_TLS_CERT)")] = None,
        tls_key: Annotated[Path | None, typer.Option(help="PEM private key for --tls-cert (KITGATE_TLS_KEY)")] = None,
    ) -> None:
        """Run the controller."""
        from kitgate.controller.server import StartupError
        from kitgate.controller.server import serve as run

        settings = load_settings(host=host, port=port, data_dir=data_dir, tls_cert=tls_cert, tls_key=tls_key)
        try:
            run(settings, port_file=port_file)  # type: ignore[arg-type]
        except StartupError as exc:
            typer.echo(f"kitgate: {exc}", err=True)
            raise typer.Exit(2) from None

    @app.command("export-schema")
    def export_schema(
        output: Annotated[Path, typer.Option(help="where to write the OpenAPI JSON")] = Path("shared_schema.json"),
        check: Annotated[bool, typer.Option(help="exit 1 if the file differs instead of writing it")] = False,
    ) -> None:
        """Write the OpenAPI schema (shared_schema.json)."""
        from kitgate.controller.schema import render_schema

        text = render_schema()
        if check:
            current = output.read_text() if output.exists() else ""
            if current != text:
                typer.echo(f"{output} is out of date; run `kitgate export-schema --output {output}`", err=True)
                raise typer.Exit(1)
            return
        output.write_text(text)
        typer.echo(f"wrote {output}")

    @app.command()
    def demo(
        output_dir: Annotated[Path, typer.Option(help="where the resulting .usda goes")] = Path("demo-output"),
        keep_data: Annotated[bool, typer.Option(help="keep the temporary data dir")] = False,
    ) -> None:
        """Controller + headless worker + sample jobs in one go, no set-up."""
        from kitgate.controller.demo import run_demo

        raise typer.Exit(run_demo(output_dir, keep_data=keep_data))
