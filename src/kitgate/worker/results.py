"""The result a worker reports, built once per job (worker -> controller trust boundary).

Why one builder: the sandbox's outcome, the worker's own verdicts (apply failed, cancelled, refused
claim, shutdown) and the timestamps only the worker knows are merged into one raw dict, and
`build_result` runs the protocol's normaliser on it exactly once, right before the result is journaled
and sent. Nothing else in the worker caps a result's fields. Plain dicts: no pydantic inside Kit.

One more rule applies on the wire only: the controller refuses a request body over its limit (413,
KITGATE_MAX_BODY_BYTES) and a JSON body of a dangerous shape (422). Each field's own cap does not keep
their sum under an operator's lower limit, so `fit_report` makes a refused report fit, deterministically
(same report, same limit: same result): the largest free-form parts go first (picture, a big value),
then stdout (head and tail around a marker), changed prims and violations share what room is left.
What was dropped, why, and what to do instead is said in the result's `error`. `minimal_report` and
`last_report` are the two smaller steps when even that is refused; the outbox never sends one body twice
after a refusal.
"""

from __future__ import annotations

import dataclasses
import json
import time
import traceback
from typing import Any

from kitgate.protocol import render as _render
from kitgate.protocol.errors import error_info
from kitgate.protocol.results import finite, normalise_result
from kitgate.protocol.status import JobStatus
from kitgate.protocol.wire import MAX_ERROR_MESSAGE_CHARS

__all__ = ["RESULT_TOO_LARGE", "build_result", "encoded_size", "error_info", "fit_report", "last_report",
           "minimal_report", "outcome_fields", "safe_exception_text", "simple_result"]

# The error type of a result the worker had to cut to get it accepted (and of a job reported as `failed`
# because even its smallest report was refused).
RESULT_TOO_LARGE = "ResultTooLarge"
NOTE_ROOM = 1200  # bytes of a report kept free for the note that says what was dropped
MIN_ROOM = 256  # below this, there is no room for any of the job's own text: send the minimal report
ADVICE = ("Return less: print and return summaries, write large data to the stage instead, or ask the "
          "operator to raise KITGATE_MAX_BODY_BYTES.")


def safe_exception_text(exc: BaseException) -> str:
    """Format an exception without letting a broken __str__/RecursionError escape."""
    try:
        return f"{type(exc).__name__}: {exc}"[:4000]
    except BaseException:  # noqa: BLE001 - formatting itself may fail
        try:
            return "".join(traceback.format_exception_only(type(exc), None))[:4000]
        except BaseException:  # noqa: BLE001
            return type(exc).__name__


def outcome_fields(outcome: Any) -> dict[str, Any]:
    """The sandbox's JobOutcome (or a plain dict) as a shallow dict of its raw fields: not normalised yet,
    so the runner can amend it before `build_result` normalises it once."""
    if dataclasses.is_dataclass(outcome) and not isinstance(outcome, type):
        return {f.name: getattr(outcome, f.name) for f in dataclasses.fields(outcome)}
    if isinstance(outcome, dict):
        return dict(outcome)
    raise TypeError(f"cannot report a {type(outcome).__name__}")


def build_result(
    data: dict[str, Any],
    *,
    claim_id: str,
    worker_id: str,
    claimed_at: float | None,
    started_at: float | None,
    finished_at: float | None = None,
) -> dict[str, Any]:
    """The ExecutionResult JSON: the normalised fields plus the claim, the worker and its timestamps."""
    out = normalise_result(data)
    result: dict[str, Any] = {"status": out.pop("status"), "claim_id": claim_id, "worker_id": worker_id, **out}
    stamps = {
        "claimed_at": finite(claimed_at),
        "started_at": finite(started_at),
        "finished_at": finite(finished_at if finished_at is not None else time.time()),
    }
    timings = {k: v for k, v in result["timings"].items() if k not in stamps}
    timings.update({k: v for k, v in stamps.items() if v is not None})
    result["timings"] = timings
    return result


def simple_result(status: str, err_type: str, message: str, **kw: Any) -> dict[str, Any]:
    """A result for a job that never produced an outcome (refused, abandoned, host failure)."""
    return build_result({"status": status, "error": error_info(err_type, message)}, **kw)


# ---------------------------------------------------------------- reports the controller refused


def encoded_size(body: Any) -> int:
    """The bytes of `body` as the worker's transport sends it (compact JSON, ASCII)."""
    return len(json.dumps(body, separators=(",", ":"), allow_nan=False).encode())


def _text_within(text: str, room: int) -> tuple[str, int]:
    """`text` as its head and tail around a marker, within `room` encoded bytes: (text, UTF-8 bytes cut)."""
    if encoded_size(text) <= room:
        return text, 0
    total = len(text.encode("utf-8", "replace"))

    def build(keep: int) -> tuple[str, int]:
        head, tail = text[: keep - keep // 2], text[len(text) - keep // 2:] if keep // 2 else ""
        cut = total - len(head.encode("utf-8", "replace")) - len(tail.encode("utf-8", "replace"))
        return f"{head}\n[... kitgate: {cut} bytes of output cut here: the report was too large ...]\n{tail}", cut

    lo, hi = 0, len(text) - 1  # the most characters kept whose text still fits (binary search, deterministic)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if encoded_size(build(mid)[0]) <= room:
            lo = mid
        else:
            hi = mid - 1
    out, cut = build(lo)
    return (out, cut) if encoded_size(out) <= room else ("", total)


def _prefix_within(items: list[Any], room: int) -> list[Any]:
    """The longest prefix of `items` whose JSON list fits `room` bytes."""
    used, n = 2, 0
    for item in items:
        used += encoded_size(item) + (1 if n else 0)
        if used > room:
            break
        n += 1
    return items[:n]


def _note(body: dict[str, Any], dropped: list[str], why: str) -> dict[str, Any]:
    """The result's `error` saying what was dropped and why; the job's own error type and line stay."""
    status = body.get("status")
    note = (f"kitgate: {why}, so the worker {'; '.join(dropped)}. The job's status ({status}) and its scene "
            f"changes, if any, stand. {ADVICE}")
    err = body.get("error")
    if isinstance(err, dict) and err.get("type"):
        own = str(err.get("message") or "")[: max(0, MAX_ERROR_MESSAGE_CHARS - len(note) - 3)]
        return error_info(str(err["type"]), f"{own} [{note}]" if own else note, err.get("line"))
    return error_info(RESULT_TOO_LARGE, note)


def fit_report(body: dict[str, Any], limit: int, refused: str | None = None) -> dict[str, Any]:
    """`body` cut to fit `limit` bytes; `refused` (the controller's word on a JSON shape it refused) drops the
    value whatever its size. Returns `body` itself when nothing needs cutting, else a new dict; the
    `minimal_report` when nothing of the job's own text fits."""
    size = encoded_size(body)
    if size <= limit and refused is None:
        return body
    out = dict(body)
    dropped: list[str] = []
    if refused is not None:
        why = f"the controller refused this report ({refused[:300]})"
        if out.get("value") is not None:
            dropped.append(f"dropped the value ({encoded_size(out['value'])} bytes as JSON)")
            out["value"] = None
        if encoded_size(out) <= limit - NOTE_ROOM:
            out["error"] = _note(body, dropped or ["dropped nothing it could name"], why)
            return out
    else:
        why = f"this report was {size} bytes, over the controller's request limit of {limit} bytes"
    room_all = limit - NOTE_ROOM
    texts = ("stdout", "changed_prims", "violations")
    bare = {**out, "stdout": "", "changed_prims": [], "violations": [], "value": None}
    bare.pop("render", None)
    room = room_all - encoded_size(bare)
    if room < MIN_ROOM:
        return minimal_report(body, limit)
    picture = out.get("render")
    if isinstance(picture, dict) and picture.get("png_base64") is not None:
        pic = encoded_size(picture)
        if pic > room // 4:  # a big picture goes before any of the job's text is cut
            out["render"] = _render.error(_render.IMAGE_TOO_LARGE, f"the picture ({picture.get('bytes')} bytes) was "
                                          f"dropped: {why}", f"Ask for a smaller width/height. {ADVICE}")
            dropped.append(f"dropped the picture ({picture.get('bytes')} bytes; the render entry says so)")
    if out.get("render") is not None:
        room -= encoded_size(out["render"]) + len(',"render":')
    value_size = encoded_size(out.get("value")) - 4  # `null` is in `bare` already
    if out.get("value") is not None and value_size > room // 4:
        dropped.append(f"dropped the value ({value_size + 4} bytes as JSON)")
        out["value"] = None
        value_size = 0
    room -= max(0, value_size)
    # stdout, changed prims and violations share the rest: the smallest first, each up to an equal share
    sizes = {k: encoded_size(out.get(k) or ("" if k == "stdout" else [])) - 2 for k in texts}
    left = max(0, room)
    for i, key in enumerate(sorted(texts, key=lambda k: (sizes[k], k))):
        share = left // (len(texts) - i)
        if sizes[key] <= share:
            left -= max(0, sizes[key])
            continue
        if key == "stdout":
            text, cut = _text_within(str(out.get("stdout") or ""), share + 2)
            out["stdout"] = text
            out["stdout_truncated"] = int(out.get("stdout_truncated") or 0) + cut
            dropped.append(f"cut {cut} bytes from the middle of stdout (its head and tail are kept)")
        elif key == "changed_prims":
            given = list(out.get("changed_prims") or [])
            out["changed_prims"] = _prefix_within(given, share + 2)
            total = out.get("changed_prims_total")
            out["changed_prims_total"] = total if isinstance(total, int) and total >= len(given) else len(given)
            dropped.append(f"listed {len(out['changed_prims'])} of {out['changed_prims_total']} changed prims "
                           "(changed_prims_total has the count)")
        else:
            given = list(out.get("violations") or [])
            out["violations"] = _prefix_within(given, share + 2)
            dropped.append(f"listed {len(out['violations'])} of {len(given)} violations")
        left -= max(0, encoded_size(out.get(key)) - 2)
    out["error"] = _note(body, dropped or ["dropped nothing it could name"], why)
    return out if encoded_size(out) <= limit else minimal_report(body, limit)


def minimal_report(body: dict[str, Any], limit: int | None = None) -> dict[str, Any]:
    """Status, ids, timings and the job's error type only, with a short note: what is left to report."""
    err = body.get("error") if isinstance(body.get("error"), dict) else None
    stdout = str(body.get("stdout") or "")
    over = f"over the controller's request limit of {limit} bytes" if limit else "refused by the controller"
    note = (f"kitgate: the result was {over} even after cutting it, so only its status and timings were "
            f"reported; its stdout, value, picture and prim list were dropped. {ADVICE}")
    given = body.get("changed_prims")
    total = body.get("changed_prims_total")
    out: dict[str, Any] = {
        "status": body.get("status"), "claim_id": body.get("claim_id"), "worker_id": body.get("worker_id"),
        "stdout": "",
        "stdout_truncated": int(body.get("stdout_truncated") or 0) + len(stdout.encode("utf-8", "replace")),
        "value": None, "changed_prims": [],
        "changed_prims_total": total if isinstance(total, int) else len(given) if isinstance(given, list) else 0,
        "limit": body.get("limit"), "violations": [], "timings": body.get("timings") or {},
        "error": error_info(str(err["type"]), note, err.get("line")) if err and err.get("type")
        else error_info(RESULT_TOO_LARGE, note),
    }
    return out


def last_report(body: dict[str, Any]) -> dict[str, Any]:
    """Refused even as `minimal_report`: the job is reported `failed` with `ResultTooLarge`, nothing else."""
    return {"status": JobStatus.failed.value, "claim_id": body.get("claim_id"), "worker_id": body.get("worker_id"),
            "timings": body.get("timings") or {},
            "error": error_info(RESULT_TOO_LARGE, f"kitgate: the controller refused every form of this job's "
                                f"result (it ended {body.get('status')}); nothing of it could be reported. {ADVICE}")}
