"""Shape service data into what the console's templates show (plain dicts and strings, escaped later).

Why apart from the routes: the routes decide who may see what; this decides how it reads. Nothing here
marks anything safe: the templates autoescape every value, and the JS sets text with textContent.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from kitgate.controller.store import JobRecord
from kitgate.protocol.status import JobStatus

MAX_VALUE_CHARS = 65_536  # a value bigger than this is shown cut, with a note
STATUSES = tuple(s.value for s in JobStatus)


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(ts: float | None, now: float | None = None) -> str:
    if ts is None:
        return "never"
    seconds = max(0.0, (now or time.time()) - float(ts))
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def code_lines(code: str, flagged: dict[int, list[str]]) -> list[dict[str, Any]]:
    """Numbered lines, each with the messages that point at it."""
    return [{"n": n, "text": text, "notes": flagged.get(n, [])} for n, text in enumerate(code.split("\n"), start=1)]


def flagged_lines(result: dict[str, Any] | None) -> dict[int, list[str]]:
    """line -> messages, from the result's violations and its error's line."""
    notes: dict[int, list[str]] = {}
    if not result:
        return notes
    for v in result.get("violations") or []:
        if isinstance(v, dict) and isinstance(v.get("line"), int):
            notes.setdefault(v["line"], []).append(f"{v.get('rule', 'violation')}: {v.get('message', '')}")
    error = result.get("error")
    if isinstance(error, dict) and isinstance(error.get("line"), int):
        notes.setdefault(error["line"], []).append(f"{error.get('type', 'error')}: {error.get('message', '')}")
    return notes


def pretty_value(value: Any) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + f"\n… ({len(text) - MAX_VALUE_CHARS} more characters not shown)"
    return text


def timings(job: JobRecord) -> list[tuple[str, str]]:
    t = dict((job.result or {}).get("timings") or {})
    rows = [("created", when(job.created_at)), ("queued", when(job.queued_at)), ("claimed", when(job.claimed_at)),
            ("started", when(job.started_at)), ("finished", when(job.finished_at))]
    for key in ("compile_ms", "run_ms", "apply_ms"):
        if isinstance(t.get(key), int | float):
            rows.append((key.replace("_ms", ""), f"{t[key]:.1f} ms"))
    if job.finished_at and job.created_at:
        rows.append(("end to end", f"{(job.finished_at - job.created_at) * 1000:.0f} ms"))
    return rows


def job_row(job: JobRecord) -> dict[str, Any]:
    error = (job.result or {}).get("error") or {}
    return {
        "id": job.id, "status": job.status, "policy": job.policy, "owner": job.owner, "labels": job.labels,
        "created": when(job.created_at), "worker": job.worker_id or "",
        "error": _clip(f"{error.get('type', '')}: {error.get('message', '')}", 160) if error else "",
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def audit_row(record: dict[str, Any], show_ip: bool) -> dict[str, Any]:
    """One audit record for a table; a record the PostgreSQL sequencer has not chained yet shows "pending"."""
    data = record.get("data") or {}
    return {
        "seq": "pending" if record.get("seq") is None else record["seq"],
        "when": when(record["ts"]), "event": record["event"], "actor": record.get("actor") or "",
        "ip": (record.get("ip") or "") if show_ip else "",
        "data": ", ".join(f"{k}={v}" for k, v in sorted(data.items()) if k != "code")[:600],
        "hash": str(record.get("hash") or "")[:12],
    }


def output_so_far(events: list[Any]) -> str:
    """The live output retained on the event bus, in order (a running job's page starts from it)."""
    chunks = [ev for ev in events if ev.type == "output"]
    chunks.sort(key=lambda ev: (ev.data.get("seq", 0), ev.id))
    return "".join(str(ev.data.get("text", "")) for ev in chunks)
