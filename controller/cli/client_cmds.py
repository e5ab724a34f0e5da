"""`kitgate submit` and `kitgate status`: thin commands over the SDK (same API, same token rules).

Exit codes: 0 the job succeeded (or was queued, without --wait); 1 the policy refused the code or
the job did not succeed; 2 the request could not be made (usage, token, network, auth).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

MAX_SCRIPT_BYTES = 1_000_000


def _emit_error(err: Exception, as_json: bool) -> None:
    from kitgate.client.errors import KitgateError, PolicyViolation
    from kitgate.client.results import format_error

    if as_json:
        body: dict[str, Any] = (
            {"error": err.to_dict()} if isinstance(err, KitgateError) else {"error": {"message": str(err)}}
        )
        typer.echo(json.dumps(body, indent=2))
    else:
        typer.echo(format_error(err) if isinstance(err, KitgateError) else f"error: {err}", err=True)
    raise typer.Exit(1 if isinstance(err, PolicyViolation) else 2)


def _client() -> Any:
    from kitgate.client.sdk import KitgateClient

    return KitgateClient()


def _read_script(path: Path) -> str:
    if str(path) == "-":
        raw = sys.stdin.buffer.read(MAX_SCRIPT_BYTES + 1)
    else:
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_SCRIPT_BYTES + 1)
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_SCRIPT_BYTES:
        raise typer.BadParameter(f"{path} is larger than {MAX_SCRIPT_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise typer.BadParameter(f"{path} is not UTF-8 text") from None


def _show(job: Any, as_json: bool) -> None:
    from kitgate.client.results import format_job

    if as_json:
        typer.echo(json.dumps(job.model_dump(mode="json"), indent=2))
    else:
        typer.echo(format_job(job, max_output_chars=100_000, max_prims=200))


def submit(
    file: Annotated[Path, typer.Argument(help="Python script to run ('-' reads stdin).")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the result; exit 0 only if it succeeded.")] = False,
    policy: Annotated[str | None, typer.Option("--policy", help="Policy name (default: the controller's).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Worker label the job needs (repeatable).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait with --wait.")] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """Submit a script to the controller at KITGATE_URL with KITGATE_TOKEN / KITGATE_TOKEN_FILE."""
    from kitgate.client.config import TokenError
    from kitgate.client.errors import KitgateError

    code = _read_script(file)
    try:
        with _client() as client:
            if wait:
                job = client.execute(code, policy=policy, labels=label or None, timeout_s=timeout)
            else:
                job = client.submit(code, policy=policy, labels=label or None)
    except (KitgateError, TokenError) as err:
        _emit_error(err, as_json)
        return
    _show(job, as_json)
    if wait and job.status.value != "succeeded":
        raise typer.Exit(1)


def status(
    job_id: Annotated[str, typer.Argument(help="Job id printed by `kitgate submit`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """Show a job's status and result."""
    from kitgate.client.config import TokenError
    from kitgate.client.errors import KitgateError

    try:
        with _client() as client:
            job = client.status(job_id)
    except (KitgateError, TokenError) as err:
        _emit_error(err, as_json)
        return
    _show(job, as_json)


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("status")(status)
