"""Pictures of a stage for agents, operators and reviews, drawn by a headless offscreen renderer.

Why: an agent that edits a scene blind cannot check its work, and an operator approving a job wants to see
what it did. This package turns a USD stage into a PNG without a GPU or a display, and it treats the stage
as hostile: prims, faces and instances are counted before anything is tessellated, arrays are validated
with numpy before use, and the draw itself runs in a separate process with rlimits and a wall-clock kill,
so a scene built to explode the renderer costs one child process and gives a clear ``RenderError``.

API (final; the worker calls it):

``RenderRequest(width: int, height: int, camera: str | None = None)``
    ``camera`` is the absolute prim path of a ``UsdGeom.Camera``; ``None`` frames the scene's world bounds.
``RenderLimits(max_width=2048, max_height=2048, max_pixels=4_194_304, max_faces=2_000_000, max_prims=200_000,
               max_instances=100_000, time_s=20.0, memory_mb=2048, max_png_bytes=8_388_608)``
    The policy's caps (``to_dict`` / ``from_dict`` for JSON). ``max_instances`` caps PointInstancer
    instances (they are drawn). ``time_s`` and ``memory_mb`` are the render's own, after the child's
    start-up (interpreter, pxr, GL context: ~1 s idle); the caller kills the child at ``time_s`` + 30 s.
``check_request(request, limits)``
    Pure Python (no pxr, numpy or GL): raises the same RenderError the render would for a bad or
    oversized request, so a caller can refuse it before any work.
``RenderError(code, message, hint)``
    ``code`` is one of ``RENDER_ERROR_CODES``: BadRequest, RenderTooLarge (a width/height/pixel/prim/
    face/instance/PNG-size limit, named in the message), RenderTimeout, RenderOutOfMemory, RenderFailed,
    BadCamera, NothingToRender, AssetRefused, RendererUnavailable. ``to_dict()`` gives
    ``{"code", "message", "hint"}``.
``render_layer_text(layer_text, request, limits, *, asset_base=None, anchor=None) -> bytes``
    The PNG of a stage whose root layer is ``layer_text`` (usda). Either pass the flattened job stage
    (``stage.ExportToString()``: no arcs left, no asset_base needed), or the root layer's text with
    ``anchor`` = that layer's file path (relative arcs resolve against it; it is never read) and
    ``asset_base`` = the asset root, or a sequence of roots (e.g. the policy's ``asset_roots``): every
    sublayer/reference/payload must resolve under one of them, else AssetRefused. Runs in a fresh child
    process (never in the caller's) with rlimits (address space, CPU, no file written), its own wall-clock
    alarm and a process-group kill. Raises RenderError on every failure; the caller survives any scene.
``render_stage_in_process(stage, request, limits) -> bytes``
    The engine itself (``Usd.Stage`` in, PNG out), used by that child and by tests. Raises RenderError.

Prims skipped as unsafe to draw (NaN transforms, bad index arrays, ...) are named in the PNG's ``Comment``
text chunk. Install: the ``render`` extra (moderngl, glcontext; in ``worker`` and ``dev``) and Mesa's EGL
(Debian libegl1 libegl-mesa0 libgl1-mesa-dri: ``make gl``); without them, RendererUnavailable. docs/render.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kitgate.render.errors import RENDER_ERROR_CODES, RenderError
from kitgate.render.types import RenderLimits, RenderRequest, check_request


def render_stage_in_process(stage: object, request: RenderRequest, limits: RenderLimits) -> bytes:
    """The PNG of ``stage`` drawn in this process (the child's engine; tests). Raises RenderError."""
    from kitgate.render.engine import render_stage

    return render_stage(stage, request, limits)


def render_layer_text(layer_text: str, request: RenderRequest, limits: RenderLimits, *,
                      asset_base: Path | str | Sequence[Path | str] | None = None, anchor: str | None = None) -> bytes:
    """The PNG of the stage whose root layer is ``layer_text``, drawn in a capped child process."""
    from kitgate.render.isolated import render_in_child

    return render_in_child(layer_text, request, limits, asset_base=asset_base, anchor=anchor)


__all__ = ["RENDER_ERROR_CODES", "RenderError", "RenderLimits", "RenderRequest", "check_request",
           "render_layer_text", "render_stage_in_process"]
