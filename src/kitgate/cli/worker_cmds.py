"""`kitgate worker` (headless OpenUSD worker) and `kitgate package-extension` (Kit extension bundle)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from kitgate.cli.extras import require


def _read_token(path: Path) -> str:
    """The worker's token, read by the one token-file reader (kitgate.protocol.tokens: its rules are there)."""
    from kitgate.protocol.tokens import TokenError, read_token_file, token_file_is_private

    try:
        token = read_token_file(path)
    except TokenError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not token_file_is_private(path):
        typer.echo(f"warning: token file {path} is readable by other users (chmod 600 it)", err=True)
    return token


def _configure_logging(level: str, json_logs: bool | None = None) -> None:
    """JSON lines like the controller's when asked, or when stderr is not a terminal (a service, a file);
    readable text on a terminal."""
    from kitgate.controller.logging import JsonFormatter

    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_logs else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("kitgate")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def _check_stage_folder(stage: Path, create: bool) -> None:
    """A typo in --stage must not silently grow a folder tree: missing parents are made only when asked."""
    folder = stage.expanduser().absolute().parent
    if folder.is_dir():
        return
    if folder.exists():
        raise typer.BadParameter(f"{folder} (the folder of --stage) is not a directory")
    if not create:
        raise typer.BadParameter(f"the folder {folder} for --stage does not exist; create it, or pass --create-dirs")
    folder.mkdir(parents=True, exist_ok=True)


def worker(
    controller: Annotated[str, typer.Option("--controller", help="Controller base URL, e.g. http://127.0.0.1:8750")],
    token_file: Annotated[Path, typer.Option("--token-file", help="File holding a token with the `worker` scope.")],
    stage: Annotated[Path, typer.Option("--stage", help="USD stage to serve (created if missing).")],
    save: Annotated[
        bool, typer.Option("--save", help="Save the stage (atomically) after each successful job.")
    ] = False,
    label: Annotated[list[str] | None, typer.Option("--label", help="Label this worker offers (repeatable).")] = None,
    worker_id: Annotated[str | None, typer.Option("--worker-id", help="Stable worker id (default: persisted).")] = None,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", help="Journal/outbox/pinned keys directory.")] = None,
    policy_dir: Annotated[
        Path | None, typer.Option("--policy-dir", help="Local policy files (default: bundled).")
    ] = None,
    jwks: Annotated[
        Path | None, typer.Option("--jwks", help="Pin these signing keys (JWKS file) instead of TOFU.")
    ] = None,
    poll_wait: Annotated[float, typer.Option("--poll-wait", min=0, max=600, help="Long-poll seconds.")] = 25.0,
    heartbeat: Annotated[float, typer.Option("--heartbeat", min=0.05, max=600, help="Heartbeat seconds.")] = 5.0,
    backoff_max: Annotated[float, typer.Option("--backoff-max", min=0.1, max=3600, help="Reconnect cap (s).")] = 30.0,
    ca_file: Annotated[str | None, typer.Option("--ca-file", help="CA bundle for an https controller.")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug|info|warning|error")] = "info",
    log_json: Annotated[
        bool | None,
        typer.Option("--log-json/--log-text", help="Log format (default: JSON unless stderr is a terminal)."),
    ] = None,
    create_dirs: Annotated[
        bool, typer.Option("--create-dirs", help="Create the --stage file's missing parent folders.")
    ] = False,
) -> None:
    """Serve jobs on a usd-core stage: claim, verify, run in the sandbox, apply, report."""
    require("worker", command="worker")
    from kitgate.worker.config import RunnerConfig, WorkerEnvironment
    from kitgate.worker.headless import default_state_dir, serve

    if log_level.lower() not in {"debug", "info", "warning", "error"}:
        raise typer.BadParameter("--log-level must be debug, info, warning or error")
    _check_stage_folder(stage, create_dirs)
    _configure_logging(log_level, log_json)
    token = _read_token(token_file)
    env = WorkerEnvironment.read()  # the worker's one reading of the environment (KITGATE_ASSET_ROOT, ...)
    try:
        config = RunnerConfig(
            controller_url=controller,
            token=token,
            state_dir=state_dir or default_state_dir(stage, env.state_home),
            worker_id=worker_id,
            labels=list(label or []),
            policy_dir=policy_dir,
            asset_root=env.asset_root,
            jwks_file=jwks,
            poll_wait_s=poll_wait,
            heartbeat_s=heartbeat,
            backoff_max_s=backoff_max,
            ca_file=ca_file,
            python=env.fork_python,
        )
        code = serve(config, stage, save=save)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def package_extension(
    output: Annotated[Path, typer.Option("--output", help="Where to build the extension folder.")] = Path("dist"),
    make_zip: Annotated[
        bool, typer.Option("--zip", help="Also write <output>/kitgate.executor-<version>.zip.")
    ] = False,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Fill extension/kitgate.executor/pip_prebundle in the checkout instead.")
    ] = False,
    wheel_dir: Annotated[
        Path | None, typer.Option("--wheel-dir", help="Unpack wheels from here (e.g. cp312 for Kit 108+) instead.")
    ] = None,
    check_python: Annotated[
        str | None, typer.Option("--check-python", help="Interpreter for the bundle self-check (Kit's python).")
    ] = None,
) -> None:
    """Build a self-contained Kit extension folder (vendored deps, no pipapi, no network)."""
    require("worker", command="package-extension")
    from kitgate.worker.packaging import PackagingError, build_extension, build_in_place

    try:
        if in_place:
            folder = build_in_place(wheel_dir=wheel_dir, check_python=check_python)
            typer.echo(
                f"filled {folder / 'pip_prebundle'}; load with: kit --ext-folder {folder.parent} "
                "--enable kitgate.executor"
            )
            return
        folder, archive = build_extension(output, make_zip=make_zip, wheel_dir=wheel_dir, check_python=check_python)
    except PackagingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"extension folder: {folder}")
    if archive is not None:
        typer.echo(f"zip: {archive}")
    typer.echo(f"load with: kit --ext-folder {folder.parent} --enable kitgate.executor")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("package-extension")(package_extension)
