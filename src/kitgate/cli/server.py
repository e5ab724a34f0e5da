"""`kitgate serve`, `kitgate demo`, `kitgate export-schema`."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from kitgate.cli.extras import require


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


def _say(line: str) -> None:
    typer.echo(line)
    sys.stdout.flush()


class ServeBanner:
    """What a person starting the controller needs on their terminal: where it listens, where the admin
    token and the data are, which policies load, how many workers are connected (and when that changes),
    and that it stopped. Never a secret: the admin token's path, not the token."""

    POLL_S = 2.0

    def __init__(self, settings: Any, data_dir_given: bool) -> None:
        self.settings = settings
        self.data_dir_given = data_dir_given
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the server's: the store is read there
        self._last: set[str] = set()

    async def started(self, app: Any, port: int) -> None:
        from kitgate.controller.api_docs import package_version
        from kitgate.controller.security.layer import ADMIN_TOKEN_FILE

        s = self.settings
        scheme = "https" if s.tls_cert else "http"
        host = f"[{s.host}]" if ":" in s.host else s.host
        url = f"{scheme}://{host}:{port}"
        data_dir = s.data_dir.resolve()
        data_note = "" if self.data_dir_given else "  (default; choose one with --data-dir DIR or KITGATE_DATA_DIR)"
        policy_dir = str(s.policy_dir.resolve()) if s.policy_dir else "built-in policies (set KITGATE_POLICY_DIR)"
        _say(f"kitgate {package_version()} controller listening on {url}  (API docs: {url}/docs)")
        admin_file = data_dir / ADMIN_TOKEN_FILE
        if s.database_url is None or admin_file.exists():
            _say(f"  admin token: {admin_file}  (file mode 0600; the token is not printed)")
        else:  # a replica of a shared store: the admin token is where `kitgate init` wrote it, once
            _say("  admin token: the one `kitgate init` wrote (in its data dir); this replica keeps none")
        _say(f"  data dir:    {data_dir}{data_note}")
        if s.database_url is not None:
            from kitgate.cli.offline import describe_store

            _say(f"  store:       {describe_store(s)}; keys dir {s.keys_dir} (read-only here)")
        _say(f"  policy dir:  {policy_dir}; default policy {s.default_policy}")
        self._loop = asyncio.get_running_loop()
        _say(f"  workers:     {await self._connected(app)} connected"
             f" (start one: kitgate worker --controller {url} --token-file worker.token --stage scene.usda)")
        _say("Stop with Ctrl-C.")
        self._thread = threading.Thread(target=self._watch, args=(app,), name="kitgate-serve-banner", daemon=True)
        self._thread.start()

    async def stopping(self, app: Any) -> None:
        self._stop.set()
        try:
            counts = await app.state.kitgate.service.job_counts()
        except Exception:  # noqa: BLE001 - an unreachable database must not stop the shutdown
            counts = {}
        waiting = {k: counts.get(k, 0) for k in ("queued", "pending_approval", "running") if counts.get(k)}
        kept = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in waiting.items())
        _say(f"kitgate: stopping{'; ' + kept + ' job(s) stay in the data dir for the next start' if kept else ''}")

    def stopped(self) -> None:
        self._stop.set()
        _say("kitgate: controller stopped")

    def _live(self, app: Any) -> list[dict[str, Any]]:
        """From the watcher thread: the store is async, so the read runs on the server's loop."""
        assert self._loop is not None
        read = asyncio.run_coroutine_threadsafe(app.state.kitgate.service.live_workers(), self._loop)
        return read.result(timeout=10 * self.POLL_S)

    async def _connected(self, app: Any) -> int:
        try:
            self._last = {w["id"] for w in await app.state.kitgate.service.live_workers()}
        except Exception:  # noqa: BLE001 - a locked database must not stop the controller from starting
            self._last = set()
        return len(self._last)

    def _watch(self, app: Any) -> None:
        """Print a line whenever the set of connected workers changes."""
        last = self._last
        while not self._stop.wait(self.POLL_S):
            try:
                now = {w["id"] for w in self._live(app)}
            except Exception:  # noqa: BLE001, S112 - the next look will do
                continue
            if now != last and not self._stop.is_set():
                joined, left = sorted(now - last), sorted(last - now)
                change = "; ".join(p for p in (f"+ {', '.join(joined)}" if joined else "",
                                               f"- {', '.join(left)}" if left else "") if p)
                _say(f"workers: {len(now)} connected ({change})")
            last = now


def preflight_shared_store(settings: Any) -> None:
    """A replica on PostgreSQL checks, before anything listens, what it may not fix by itself: the schema
    (`kitgate db migrate`) and the shared keys (`kitgate init`). Either is ONE line on stderr and exit 2,
    never a traceback from inside uvicorn's lifespan. SQLite (embedded) migrates and creates keys itself."""
    if not settings.database_url:
        return
    from kitgate.cli.offline import open_keys, run, start_backend

    async def check() -> None:
        backend = await start_backend(settings)  # SchemaMismatch / no answer: one line, typer.Exit(2)
        await backend.close()

    run(check())
    open_keys(settings, create=False)  # KeysMissing: one line naming the dir and `kitgate init`


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
        require("server", command="serve")
        from kitgate.controller.server import StartupError
        from kitgate.controller.server import serve as run

        settings = load_settings(host=host, port=port, data_dir=data_dir, tls_cert=tls_cert, tls_key=tls_key)
        # chosen by --data-dir, KITGATE_DATA_DIR or the KITGATE_CONFIG file (pydantic records which fields were given)
        banner = ServeBanner(settings, data_dir_given="data_dir" in settings.model_fields_set)  # type: ignore[attr-defined]
        preflight_shared_store(settings)
        try:
            run(settings, port_file=port_file,  # type: ignore[arg-type]
                on_started=banner.started, on_stopping=banner.stopping, on_stopped=banner.stopped)
        except StartupError as exc:
            typer.echo(f"kitgate: {exc}", err=True)
            raise typer.Exit(2) from None

    @app.command("export-schema")
    def export_schema(
        output: Annotated[Path, typer.Option(help="where to write the OpenAPI JSON")] = Path("shared_schema.json"),
        check: Annotated[bool, typer.Option(help="exit 1 if the file differs instead of writing it")] = False,
    ) -> None:
        """Write the OpenAPI schema (shared_schema.json)."""
        require("server", command="export-schema")
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
        serve: Annotated[bool, typer.Option(
            help="then keep serving, a trusted job waiting for approval in the web console, until Ctrl-C")] = False,
    ) -> None:
        """Controller + headless worker + sample jobs in one go, no set-up."""
        require("server", "worker", command="demo")
        from kitgate.cli.demo import run_demo

        raise typer.Exit(run_demo(output_dir, keep_data=keep_data, serve=serve))
