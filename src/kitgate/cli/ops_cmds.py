"""Day-two commands for operators: `kitgate jobs list|show|cancel|approve|reject`, `kitgate workers list`,
`kitgate audit show`.

They are HTTP clients of the running controller, like `kitgate submit`: the token in KITGATE_TOKEN or
KITGATE_TOKEN_FILE decides what they may do (an admin token sees every job, a jobs:read token its own;
approve, reject, workers and audit need admin), so an operator never needs curl for these. Every
command takes --json for scripts; the table output is for people.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Annotated, Any

import typer

from kitgate.cli.client_cmds import client, emit_error, show_job
from kitgate.protocol import JobStatus

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
JobIdArg = Annotated[str, typer.Argument(help="Job id (as printed by `kitgate submit` or `kitgate jobs list`).")]
_AGO = re.compile(r"^(\d{1,9})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STATUSES = tuple(s.value for s in JobStatus)


def parse_since(text: str, now: float | None = None) -> float:
    """`30m`, `2h`, `7d` ago, or an ISO-8601 time (UTC when it names no zone) -> unix time."""
    now = time.time() if now is None else now
    match = _AGO.match(text.strip())
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter("use a duration such as 30m, 2h or 7d, or a time such as 2026-05-01T12:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def _run(fn: Any, as_json: bool) -> Any:
    """Call the SDK; errors become one human line (or a JSON error body) and exit 1/2."""
    from kitgate.client.config import TokenError
    from kitgate.client.errors import KitgateError

    try:
        with client() as sdk:
            return fn(sdk)
    except (KitgateError, TokenError) as err:
        emit_error(err, as_json)


def _table(rows: list[list[str]], header: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*header, box=None, pad_edge=False, highlight=False)
    for row in rows:
        table.add_row(*row)
    Console(soft_wrap=True, width=200 if not Console().is_terminal else None).print(table)


# ---- jobs ----------------------------------------------------------------------------------------
def list_matching(sdk: Any, status: str | None, policy: str | None, since: float | None, limit: int) -> list[Any]:
    """Newest first, paging the controller's list; policy and --since are applied here (the list is ordered
    by submission, so paging stops at the first job older than --since)."""
    found: list[Any] = []
    cursor = None
    while len(found) < limit:
        page = sdk.list_jobs(limit=min(500, max(50, limit)), cursor=cursor, status=status)
        for job in page.jobs:
            if since is not None and job.created_at < since:
                return found
            if policy is None or job.policy == policy:
                found.append(job)
                if len(found) >= limit:
                    break
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return found


def jobs_list(
    status: Annotated[str | None, typer.Option("--status", help=f"One of: {', '.join(STATUSES)}.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Only jobs under this policy.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only jobs submitted since: 30m, 2h, 7d or ISO.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most this many jobs.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Jobs, newest first (an admin token sees every owner's)."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"--status must be one of {', '.join(STATUSES)}")
    cutoff = parse_since(since) if since else None
    jobs = _run(lambda sdk: list_matching(sdk, status, policy, cutoff, limit), as_json)
    if as_json:
        typer.echo(json.dumps({"jobs": [j.model_dump(mode="json") for j in jobs]}, indent=2))
        return
    if not jobs:
        typer.echo("no jobs match")
        return
    now = time.time()
    _table([[j.id, j.status.value, j.policy, j.owner, _ago(now - j.created_at), j.worker_id or "-",
             ",".join(j.labels) or "-"] for j in jobs],
           ["JOB", "STATUS", "POLICY", "OWNER", "SUBMITTED", "WORKER", "LABELS"])


def _job_audit(sdk: Any, job_id: str, since_ts: float) -> list[dict[str, Any]]:
    """Audit records that name the job (the trail is read from the job's submission on, page by page)."""
    records: list[dict[str, Any]] = []
    since_seq = 0
    for _ in range(200):  # at most 200 000 records looked at
        page = sdk.audit(since_ts=since_ts, since_seq=since_seq, limit=1000)
        records += [r for r in page["records"] if (r.get("data") or {}).get("job_id") == job_id]
        if page.get("next_seq") is None:
            break
        since_seq = page["next_seq"]
    return records


def jobs_show(job_id: JobIdArg, as_json: AsJson = False) -> None:
    """Everything about one job: code, policy, status, timings, output, changed prims, audit records."""
    from kitgate.client.errors import ForbiddenError

    def gather(sdk: Any) -> dict[str, Any]:
        job = sdk.status(job_id)
        info: dict[str, Any] = {"job": job, "code": sdk.job_code(job_id).code, "progress": None, "audit": None}
        if not job.status.terminal:
            info["progress"] = sdk.progress(job_id)
        try:
            info["audit"] = _job_audit(sdk, job_id, job.created_at - 1.0)
        except ForbiddenError:
            info["audit"] = None  # audit records need an admin token
        return info

    info = _run(gather, as_json)
    job = info["job"]
    if as_json:
        progress = info["progress"]
        typer.echo(json.dumps({"job": job.model_dump(mode="json"), "code": info["code"],
                               "progress": progress.model_dump(mode="json") if progress else None,
                               "audit": info["audit"]}, indent=2))
        return
    from kitgate.client.results import describe_progress

    show_job(job, False)
    if info["progress"] is not None:
        typer.echo(f"now: {describe_progress(job, info['progress'])}")
    typer.echo(f"owner: {job.owner}; labels: {', '.join(job.labels) or 'none'}; attempts: {job.attempts}")
    typer.echo(f"policy digest: {job.policy_digest}\ncode sha256: {job.code_sha256}")
    typer.echo("timings: " + ", ".join(f"{k} {_when(getattr(job, k))}" for k in
                                      ("created_at", "queued_at", "claimed_at", "started_at", "finished_at")))
    if job.result is not None:
        t = job.result.timings
        ms = [f"{k} {getattr(t, k):.1f} ms" for k in ("compile_ms", "run_ms", "apply_ms") if getattr(t, k) is not None]
        if ms:
            typer.echo("worker timings: " + ", ".join(ms))
    typer.echo("code:")
    typer.echo("".join(f"  {n:>4} | {line}\n" for n, line in enumerate(info["code"].splitlines(), 1)).rstrip("\n"))
    if info["audit"] is None:
        typer.echo("audit: not shown (needs an admin token)")
    else:
        typer.echo(f"audit ({len(info['audit'])} records):")
        for r in info["audit"]:
            typer.echo(f"  #{r['seq']} {_when(r['ts'])} {r['event']} by {r['actor'] or '-'}{_fields(r['data'])}")


def _fields(data: dict[str, Any]) -> str:
    shown = {k: v for k, v in (data or {}).items() if k not in {"job_id", "code"}}
    return (" " + " ".join(f"{k}={v}" for k, v in shown.items())) if shown else ""


def _job_action(action: str, job_id: str, as_json: bool, **kw: Any) -> None:
    job = _run(lambda sdk: getattr(sdk, action)(job_id, **kw), as_json)
    if as_json:
        show_job(job, True)
        return
    typer.echo(f"job {job.id}: {job.status.value}")


def jobs_cancel(job_id: JobIdArg, as_json: AsJson = False) -> None:
    """Cancel a job that has not started (queued or waiting for approval)."""
    _job_action("cancel", job_id, as_json)


def jobs_approve(job_id: JobIdArg, as_json: AsJson = False) -> None:
    """Release a job that waits for approval (admin): it is queued for a worker."""
    _job_action("approve", job_id, as_json)


def jobs_reject(
    job_id: JobIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why; the submitter sees it as the job's error.")],
    as_json: AsJson = False,
) -> None:
    """Refuse a queued or pending job (admin): it ends `rejected`, error type rejected_by_operator."""
    if not reason.strip():
        raise typer.BadParameter("--reason must say why")
    _job_action("reject", job_id, as_json, reason=reason.strip())


# ---- workers and audit ---------------------------------------------------------------------------
def workers_list(as_json: AsJson = False) -> None:
    """Workers this controller has seen: connected, silent (not heard from lately) or stopped (admin)."""
    workers = _run(lambda sdk: sdk.workers(), as_json)
    if as_json:
        typer.echo(json.dumps({"workers": workers}, indent=2))
        return
    if not workers:
        typer.echo("no worker has connected yet")
        return
    _table([[w["id"], str(w.get("presence", "?")), _ago(w.get("last_seen_s_ago")),
             ",".join(w.get("labels") or []) or "-", str(w.get("stage") or "-"),
             str(w.get("job_id") or "-") if w.get("presence") == "connected" else "-"] for w in workers],
           ["WORKER", "PRESENCE", "LAST SEEN", "LABELS", "STAGE", "LAST JOB"])


def audit_show(
    job: Annotated[str | None, typer.Option("--job", help="Only records about this job.")] = None,
    request_id: Annotated[str | None, typer.Option("--request-id", help="Only this request (X-Request-ID).")] = None,
    event: Annotated[str | None, typer.Option("--event", help="Only this event, e.g. job_approved.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only records since: 30m, 2h, 7d or ISO.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most this many records.")] = 100,
    as_json: AsJson = False,
) -> None:
    """The hash-chained audit trail (admin token), oldest first."""
    cutoff = parse_since(since) if since else None

    def gather(sdk: Any) -> list[dict[str, Any]]:
        if job is not None:
            start = cutoff if cutoff is not None else sdk.status(job).created_at - 1.0
            found = _job_audit(sdk, job, start)
            return [r for r in found if (request_id is None or r["request_id"] == request_id)
                    and (event is None or r["event"] == event)][:limit]
        page = sdk.audit(request_id=request_id, event=event, since_ts=cutoff, limit=min(limit, 1000))
        return page["records"][:limit]

    records = _run(gather, as_json)
    if as_json:
        typer.echo(json.dumps({"records": records}, indent=2))
        return
    if not records:
        typer.echo("no audit records match")
        return
    for r in records:
        rid = f" request {r['request_id']}" if r.get("request_id") else ""
        typer.echo(f"#{r['seq']} {_when(r['ts'])} {r['event']} by {r['actor'] or '-'}{rid}{_fields(r['data'])}")


def register(app: typer.Typer) -> None:
    jobs = typer.Typer(help="List, inspect, cancel, approve and reject jobs (KITGATE_URL, KITGATE_TOKEN[_FILE]).",
                       no_args_is_help=True)
    jobs.command("list")(jobs_list)
    jobs.command("show")(jobs_show)
    jobs.command("cancel")(jobs_cancel)
    jobs.command("approve")(jobs_approve)
    jobs.command("reject")(jobs_reject)
    app.add_typer(jobs, name="jobs")
    workers = typer.Typer(help="Workers seen by the controller (admin token).", no_args_is_help=True)
    workers.command("list")(workers_list)
    app.add_typer(workers, name="workers")
