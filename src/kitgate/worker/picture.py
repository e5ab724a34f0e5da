"""The picture a job asked for, taken after its change is applied: the `render` entry of its result.

Why a module of its own: execution.py runs the job and applies its delta; whether and how a picture is
taken is a separate decision with its own rules, kept here so that file only calls `take_picture`:

- what to draw comes from the signed claim (`limits.render`, covered by the controller's signature), and
  what it may cost comes from the worker's OWN copy of the policy (`[render]`), never from the controller;
- a host may draw it itself (`host.render(job, stage, ask, caps)` with the policy's RenderCaps: the Kit
  extension captures its viewport); otherwise the stage's root layer is drawn by `kitgate.render` in a
  separate process with its own rlimits and wall-clock kill, so a scene built to explode the renderer
  costs one child, not the worker;
- a picture that fails never fails the job: the scene change stands, and the entry says
  `{"ok": false, "error": {"code", "message", "hint"}}` (codes: kitgate.render's, plus NotRendered,
  RenderNotAllowed, ImageTooLarge).

A host's `render` may return the entry, or a `PendingPicture` (anything with `done()` and `entry()`) that
the host thread polls until the picture is ready; `Execution.poll()` does the polling.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from kitgate.protocol import JobStatus
from kitgate.protocol import render as wire
from kitgate.worker.results import safe_exception_text
from kitgate.worker.verify import Job

log = logging.getLogger("kitgate.worker")


class PendingPicture(Protocol):
    """A picture a host is still taking (Kit: a viewport capture that completes on a later frame)."""

    def done(self) -> bool: ...

    def entry(self) -> dict[str, Any]: ...


def asked(job: Job) -> dict[str, Any] | None:
    """The signed render request, or None when the job asked for no picture. RenderAskError if malformed."""
    limits = job.claims.get("limits") if isinstance(job.claims, dict) else None
    raw = limits.get("render") if isinstance(limits, dict) else None
    return wire.parse_request(raw)


def render_limits(caps: Any) -> Any:
    """The policy's RenderCaps as kitgate.render's RenderLimits (imported lazily: Kit may not ship numpy)."""
    from kitgate.render import RenderLimits

    return RenderLimits(max_width=caps.max_width, max_height=caps.max_height, max_pixels=caps.max_pixels,
                        max_faces=caps.max_faces, max_prims=caps.max_prims, max_instances=caps.max_instances,
                        time_s=caps.time_s, memory_mb=caps.memory_mb, max_png_bytes=caps.max_png_bytes)


def take_picture(job: Job, stage: Any, host: Any, status: Any) -> dict[str, Any] | PendingPicture | None:
    """The `render` entry for `job` (None: it asked for none). Runs on the host thread, after the apply."""
    try:
        ask = asked(job)
    except wire.RenderAskError as exc:
        return wire.error("BadRequest", str(exc), "ask for render: {width, height, camera?}")
    if ask is None:
        return None
    if status != JobStatus.succeeded:
        return wire.error(wire.NOT_RENDERED, f"the job ended {status}; no picture of its result was taken",
                          "fix the job; a picture is taken only of a job that succeeded")
    caps = getattr(job.policy, "render", None)
    problem = wire.over_caps(ask, caps) if caps is not None else ("this worker's policy has no [render] table", "")
    if problem is not None:
        return wire.error(wire.RENDER_NOT_ALLOWED, f"{problem[0]} (this worker's copy of the policy)", problem[1])
    hook = getattr(host, "render", None)
    try:
        if callable(hook):  # the host draws it (Kit: its viewport); it gets the policy's caps as they are
            return hook(job, stage, ask, caps)
        return render_root_layer(job, stage, ask, render_limits(caps))
    except ImportError as exc:
        return wire.error("RendererUnavailable", f"the renderer is not installed here: {exc}",
                          "install the worker extra: pip install 'kitgate[worker]'")
    except Exception as exc:  # noqa: BLE001 - a picture that fails is reported, the job stands
        log.warning("job %s: picture failed: %s", job.job_id, safe_exception_text(exc))
        return wire.error("RenderFailed", safe_exception_text(exc), "")


def render_root_layer(job: Job, stage: Any, ask: dict[str, Any], limits: Any) -> dict[str, Any]:
    """Draw the stage's root layer (as it is after the apply) in kitgate.render's capped child process."""
    from kitgate.render import RenderError, RenderRequest, render_layer_text

    layer = stage.GetRootLayer()
    roots = tuple(getattr(job.policy, "asset_roots", ()) or ())
    t0 = time.perf_counter()
    try:
        png = render_layer_text(layer.ExportToString(), RenderRequest(ask["width"], ask["height"], ask["camera"]),
                                limits, asset_base=roots[0] if roots else None, anchor=layer.realPath or None)
    except RenderError as exc:
        return wire.error(exc.code, exc.message, exc.hint)
    return wire.success(png, (time.perf_counter() - t0) * 1000.0, limits.max_png_bytes)


def collect(pending: PendingPicture) -> dict[str, Any]:
    """The entry of a finished PendingPicture; a host that fails here gives a RenderFailed entry."""
    try:
        entry = pending.entry()
    except Exception as exc:  # noqa: BLE001
        return wire.error("RenderFailed", safe_exception_text(exc), "")
    return entry if isinstance(entry, dict) else wire.error("RenderFailed", "the host returned no picture")


def abandoned() -> dict[str, Any]:
    """The entry of a picture the worker stopped waiting for (it is shutting down)."""
    return wire.error("RenderFailed", "the worker stopped before the picture was taken", "submit the job again")
