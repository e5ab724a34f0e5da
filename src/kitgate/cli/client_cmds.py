"""`kitgate submit` and `kitgate status`: thin commands over the SDK (same API, same token rules).

A person who waits for a job must see what it waits for: the job id at once, then its queue position
and whether any connected worker can take it, approval, or the worker running it and for how long (a
live status line on a terminal, plain lines otherwise, nothing extra with --json). A wait that ends
without a result (Ctrl-C, --timeout) cancels a job that has not started, because code that edits a
scene should not run later, unseen; a running job is reported, never killed. --detach keeps the job.
`--render out.png` asks for a picture of the result (`--size`, `--camera`), waits, and writes the PNG.

Exit codes: 0 the job succeeded (or was queued, without --wait); 1 the policy refused the code or the
job did not succeed (or the wait ended first); 2 the request could not be made (usage, token, network,
auth); 130 interrupted with Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

MAX_SCRIPT_BYTES = 1_000_000
EXIT_INTERRUPTED = 130
NOT_STARTED = ("queued", "pending_approval")


def human_error(err: BaseException) -> str:
    """CLI errors speak to the person at the terminal (the agent tools keep their own wording)."""
    from kitgate.client.config import TokenError
    from kitgate.client.errors import (
        AuthError,
        ConnectionFailed,
        ForbiddenError,
        KitgateError,
        PolicyViolation,
        TokenExpired,
    )
    from kitgate.client.results import format_violations

    if isinstance(err, TokenError):
        return f"error: {err}"
    if isinstance(err, TokenExpired):
        kind, cmd = ("API key", "apikey") if err.details.get("credential") == "apikey" else ("token", "token")
        return (f"error: your {kind} expired; create a new one with `kitgate {cmd} create --data-dir DIR "
                f"--scope jobs:submit --scope jobs:read > client.token` and point KITGATE_TOKEN_FILE at it.{_rid(err)}")
    if isinstance(err, PolicyViolation):
        return format_violations(err.violations, err.details.get("policy"))
    if isinstance(err, ConnectionFailed):
        return (f"error: {err.message}. Is `kitgate serve` running there? "
                "Point KITGATE_URL at the controller (default http://127.0.0.1:8750).")
    if isinstance(err, AuthError):
        if not _token_configured():
            return ("error: no token configured. Create one with `kitgate token create --data-dir DIR --scope "
                    "jobs:submit --scope jobs:read > client.token`, then `export KITGATE_TOKEN_FILE=client.token`.")
        return ("error: the controller refused the token (revoked, mistyped or not one of its tokens). "
                f"Make a new one with `kitgate token create`.{_rid(err)}")
    if isinstance(err, ForbiddenError):
        return f"error: not allowed: {err.message}. This token lacks the scope or policy for it.{_rid(err)}"
    if isinstance(err, KitgateError):
        return f"error: {err.message}{_rid(err)}"
    return f"error: {err}"


def _rid(err: Any) -> str:
    return f" (request id {err.request_id})" if getattr(err, "request_id", None) else ""


def _token_configured() -> bool:
    from kitgate.client.config import ClientSettings

    try:
        return ClientSettings().resolve_token() is not None
    except ValueError:
        return True  # a token is configured, it just cannot be read: that error was already reported


def emit_error(err: Exception, as_json: bool) -> None:
    from kitgate.client.errors import KitgateError, PolicyViolation

    if as_json:
        body: dict[str, Any] = (
            {"error": err.to_dict()} if isinstance(err, KitgateError) else {"error": {"message": str(err)}}
        )
        typer.echo(json.dumps(body, indent=2))
    else:
        typer.echo(human_error(err), err=True)
    refused = isinstance(err, PolicyViolation) or getattr(err, "code", None) == "code_too_large"
    raise typer.Exit(1 if refused else 2)  # a code-size refusal is the policy's too (policy limits.source_bytes)


def client() -> Any:
    """The SDK client from KITGATE_URL / KITGATE_TOKEN[_FILE]; connection failures are retried for ~10 s, so a
    controller that is still starting is waited for (a refused connection never reached it: nothing ran)."""
    from kitgate.client.sdk import KitgateClient, RetryPolicy

    return KitgateClient(retry=RetryPolicy(attempts=8, max_backoff_s=2.0))


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


def show_job(job: Any, as_json: bool) -> None:
    from kitgate.client.results import format_job

    if as_json:
        typer.echo(json.dumps(job.model_dump(mode="json"), indent=2))
    else:
        typer.echo(format_job(job, max_output_chars=100_000, max_prims=200))


class Progress:
    """Shows a waiting job: a rich live line on a terminal, one plain stderr line per change otherwise,
    nothing with --json (stdout must stay one JSON document)."""

    def __init__(self, as_json: bool) -> None:
        self.quiet = as_json
        self.tty = sys.stderr.isatty() and not as_json
        self._live: Any = None
        self._last = ""
        self._job: Any = None
        self._progress: Any = None
        self._running_since: float | None = None

    @contextlib.contextmanager
    def shown(self) -> Iterator[Progress]:
        if not self.tty:
            yield self
            return
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        self._spinner = Spinner("dots", text="submitting…")
        with Live(self._spinner, console=Console(stderr=True), refresh_per_second=4, transient=True) as live:
            self._live = live
            try:
                yield self
            finally:
                self._live = None

    def say(self, line: str) -> None:
        """A line that stays (the job id, cancellations); above the live line on a terminal."""
        if self.quiet:
            return
        if self._live is not None:
            self._live.console.print(line, highlight=False, markup=False)
        else:
            typer.echo(line, err=True)

    def update(self, job: Any, progress: Any) -> None:
        from kitgate.client.results import describe_progress

        if self._job is None:
            self.say(f"job {job.id} submitted (policy {job.policy}); following it, Ctrl-C cancels it if not started")
        self._job, self._progress = job, progress
        if job.status.value == "running" and self._running_since is None:
            self._running_since = time.monotonic() - ((progress.running_s or 0.0) if progress else 0.0)
        line = f"job {job.id}: {describe_progress(job, progress)}"
        if self.tty:
            self._spinner.text = _Elapsed(self)
        elif line.split(" for ")[0] != self._last.split(" for ")[0]:
            self.say(line)
        self._last = line

    def running_s(self) -> float | None:
        return None if self._running_since is None else time.monotonic() - self._running_since


class _Elapsed:
    """Renders the live line each refresh, so a running job's seconds tick between polls."""

    def __init__(self, progress: Progress) -> None:
        self.p = progress

    def __rich__(self) -> str:
        from kitgate.client.results import describe_progress

        job = self.p._job
        return f"job {job.id}: {describe_progress(job, self.p._progress, self.p.running_s())}"


class LiveOutput:
    """`submit --wait`: what the job prints, shown on stderr as it arrives (GET /v1/events on a thread).

    Best effort: a token without jobs:read, or a controller without live events, just shows nothing
    here; the final result still carries the whole output. Lines are shown whole, as text."""

    def __init__(self, sdk: Any, shown: Progress) -> None:
        self.sdk, self.shown = sdk, shown
        self._thread: threading.Thread | None = None
        self._partial = ""
        self._lock = threading.Lock()
        self.lines = 0

    def follow(self, job_id: str, timeout: float) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(job_id, timeout), daemon=True,
                                            name="kitgate-live-output")
            self._thread.start()

    def _run(self, job_id: str, timeout: float) -> None:
        from kitgate.client.errors import KitgateError

        try:
            for ev in self.sdk.events(job_id, timeout_s=timeout):
                if ev.type == "output":
                    self._text(ev.text, bool(ev.data.get("truncated")), int(ev.data.get("dropped") or 0))
        except (KitgateError, OSError, RuntimeError):
            return  # no live view (scope, older controller, closed client): the result still has it all

    def _text(self, text: str, truncated: bool, dropped: int) -> None:
        with self._lock:
            if dropped:
                self.shown.say(f"[live output: {dropped} chunk(s) skipped; the result has everything]")
            *whole, self._partial = (self._partial + text).split("\n")
            for line in whole:
                self.lines += 1
                self.shown.say(f"| {line}")
            if truncated:
                self.shown.say("[live output stops here: the job reached its output limit]")

    def finish(self, grace_s: float = 2.0) -> None:
        """The job ended: let the last chunks arrive (they precede `finished`), then show a partial line."""
        if self._thread is not None:
            self._thread.join(grace_s)
        with self._lock:
            if self._partial:
                self.shown.say(f"| {self._partial}")
                self._partial = ""


def _end_wait(sdk: Any, job: Any, shown: Progress, why: str, detach: bool) -> None:
    """Ctrl-C or timeout: cancel a job that has not started (unless --detach); report a running one."""
    from kitgate.client.errors import KitgateError

    if job is None:
        return
    with contextlib.suppress(KitgateError):
        job = sdk.status(job.id)
    if job.status.terminal:
        shown.say(f"job {job.id} ended as {job.status.value} meanwhile; see `kitgate status {job.id}`")
    elif detach:
        shown.say(f"{why}; job {job.id} is still {job.status.value} and was left as it is (--detach). "
                  f"Follow it with `kitgate status {job.id}`")
    elif job.status.value in NOT_STARTED:
        try:
            job = sdk.cancel(job.id)
            shown.say(f"{why}; job {job.id} had not started, so it was cancelled: it will not run later")
        except KitgateError as exc:  # it started in the meantime
            shown.say(f"{why}; job {job.id} could not be cancelled ({exc.message}); "
                      f"see `kitgate status {job.id}`")
    else:
        worker = f" on {job.worker_id}" if job.worker_id else ""
        shown.say(f"{why}; job {job.id} is already running{worker} and was not stopped. "
                  f"Its result: `kitgate status {job.id}`")


def _submit_and_follow(sdk: Any, code: str, policy: str | None, labels: list[str] | None, timeout: float,
                       as_json: bool, detach: bool, render: dict[str, Any] | None = None) -> Any:
    from kitgate.client.errors import WaitTimeout

    shown = Progress(as_json)
    current: list[Any] = [None]
    live = None if as_json else LiveOutput(sdk, shown)

    def on_update(job: Any, progress: Any) -> None:
        current[0] = job
        shown.update(job, progress)
        if live is not None:
            live.follow(job.id, timeout)

    with shown.shown():
        try:
            job = sdk.execute(code, policy=policy, labels=labels, timeout_s=timeout, on_update=on_update,
                              render=render)
            if live is not None:
                live.finish()
            return job
        except WaitTimeout as exc:
            _end_wait(sdk, exc.job or current[0], shown, f"no result within --timeout {timeout:g} s", detach)
            if as_json and exc.job is not None:
                show_job(sdk.status(exc.job.id), True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _end_wait(sdk, current[0], shown, "interrupted", detach)
            raise typer.Exit(EXIT_INTERRUPTED) from None


def submit(
    file: Annotated[Path, typer.Argument(help="Python script to run ('-' reads stdin).")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the result; exit 0 only if it succeeded.")] = False,
    policy: Annotated[str | None, typer.Option("--policy", help="Policy name (default: the controller's).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Worker label the job needs (repeatable).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait with --wait.")] = 300.0,
    detach: Annotated[
        bool, typer.Option("--detach", help="With --wait: on Ctrl-C or --timeout leave the job queued, do not cancel.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON, nothing else on stdout.")] = False,
    render: Annotated[
        Path | None, typer.Option("--render", help="Write a PNG picture of the result here (implies --wait).")
    ] = None,
    size: Annotated[str, typer.Option("--size", help="With --render: WIDTHxHEIGHT in pixels.")] = "512x512",
    camera: Annotated[
        str | None, typer.Option("--camera", help="With --render: a UsdGeom.Camera prim path (default: whole scene).")
    ] = None,
) -> None:
    """Submit a script to the controller at KITGATE_URL with KITGATE_TOKEN / KITGATE_TOKEN_FILE."""
    from kitgate.client.config import TokenError
    from kitgate.client.errors import KitgateError

    code = _read_script(file)
    ask = _render_ask(size, camera) if render is not None else None
    png: bytes | None = None
    try:
        with client() as sdk:
            if wait or ask is not None:
                job = _submit_and_follow(sdk, code, policy, label or None, timeout, as_json, detach, ask)
                if render is not None and _picture_taken(job):
                    png = sdk.image(job.id)
            else:
                job = sdk.submit(code, policy=policy, labels=label or None)
    except (KitgateError, TokenError) as err:
        emit_error(err, as_json)
        return
    show_job(job, as_json)
    if render is not None:
        _write_picture(job, png, render)
    if (wait or render is not None) and job.status.value != "succeeded":
        raise typer.Exit(1)


def _render_ask(size: str, camera: str | None) -> dict[str, Any]:
    """--size WxH / --camera as the job's `render`, checked by the wire's own rules before anything is sent."""
    from kitgate.protocol.render import RenderAskError, parse_request

    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise typer.BadParameter(f"--size must look like 512x512, not {size!r}")
    try:
        ask = parse_request({"width": int(width), "height": int(height), "camera": camera})
    except RenderAskError as exc:
        raise typer.BadParameter(str(exc)) from None
    assert ask is not None
    return ask


def _picture_taken(job: Any) -> bool:
    picture = job.result.render if job.result is not None else None
    return bool(picture is not None and picture.ok)


def _write_picture(job: Any, png: bytes | None, path: Path) -> None:
    """Write the PNG (atomically: a half-written picture is never left behind), or say why there is none."""
    import os
    import tempfile

    if png is None:
        picture = job.result.render if job.result is not None else None
        why = picture.error if picture is not None and picture.error is not None else None
        reason = f"{why.code}: {why.message}" + (f" ({why.hint})" if why.hint else "") if why else \
            f"the job ended {job.status.value}"
        typer.echo(f"no picture was written to {path}: {reason}", err=True)
        raise typer.Exit(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(png)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    typer.echo(f"picture written to {path} ({len(png):,} bytes)", err=True)


def status(
    job_id: Annotated[str, typer.Argument(help="Job id printed by `kitgate submit`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """Show a job's status and result."""
    from kitgate.client.config import TokenError
    from kitgate.client.errors import KitgateError

    try:
        with client() as sdk:
            job = sdk.status(job_id)
    except (KitgateError, TokenError) as err:
        emit_error(err, as_json)
        return
    show_job(job, as_json)


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("status")(status)
