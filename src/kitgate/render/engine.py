"""The render itself: a Usd.Stage and a request in, a PNG out, every failure a RenderError.

Why one function: the child process (isolated.py) and the tests call exactly this, so the pixels the tests
check are the pixels a job gets. Order matters for safety: the request is checked, the scene is counted and
validated (scene.plan_scene) and the camera resolved before any triangle is built or any GL context made.
"""

from __future__ import annotations

import numpy as np
from pxr import Usd

from kitgate.render import raster
from kitgate.render.camera import auto_matrices, camera_matrices, resolve_camera
from kitgate.render.errors import RenderError, too_large
from kitgate.render.png import encode_png
from kitgate.render.scene import Plan, build_geometry, plan_scene
from kitgate.render.types import RenderLimits, RenderRequest, check_request


def _finite(tris: np.ndarray, colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop triangles with a NaN or infinite corner (they would poison the bounds)."""
    keep = np.isfinite(tris).all(axis=(1, 2))
    return (tris, colors) if keep.all() else (tris[keep], colors[keep])


def _to_view(tris: np.ndarray, view: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(view-space corners as float32, unit flat normals, kept mask): triangles with no area, or that do not
    fit float32 in view space, are dropped (they would draw nothing or garbage)."""
    vt = (tris.reshape(-1, 3) @ view[:3, :3] + view[3, :3]).reshape(tris.shape)
    a, b = vt[:, 1] - vt[:, 0], vt[:, 2] - vt[:, 0]
    cross = np.empty_like(a)  # written out: np.cross is 4x slower on millions of rows
    cross[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    cross[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    cross[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        length = np.sqrt(np.einsum("ij,ij->i", cross, cross))
    with np.errstate(over="ignore", invalid="ignore"):
        as32 = vt.astype(np.float32)
    keep = (length > 0) & np.isfinite(length) & np.isfinite(as32).all(axis=(1, 2))
    return as32[keep], (cross[keep] / length[keep, None]).astype(np.float32), keep


def _skipped_note(plan: Plan) -> str:
    if not plan.skipped_total:
        return ""
    more = plan.skipped_total - len(plan.skipped)
    return "; ".join(plan.skipped) + (f"; and {more} more" if more > 0 else "")


WARM_UP_USDA = '#usda 1.0\ndef Cube "C" (\n    prepend apiSchemas = ["MaterialBindingAPI"]\n)\n{\n}\n'


def warm_up() -> None:
    """Run the engine's USD steps once on a one-cube stage: pxr's first XformCache and binding queries
    start its thread pool, which reserves hundreds of MB of address space. The child does this before it
    caps its address space, so the cap measures the scene, not the library's start-up."""
    stage = Usd.Stage.CreateInMemory()
    stage.GetRootLayer().ImportFromString(WARM_UP_USDA)
    build_geometry(stage, plan_scene(stage, RenderLimits()))


def render_stage(stage: Usd.Stage, request: RenderRequest, limits: RenderLimits, *,
                 context=None) -> bytes:  # noqa: ANN001  (a moderngl.Context made earlier, or None)
    """The PNG of ``stage`` as ``request`` asks, within ``limits``. Raises RenderError, nothing else."""
    try:
        return _render(stage, request, limits, context)
    except RenderError:
        raise
    except MemoryError as exc:
        raise RenderError("RenderOutOfMemory", "the render ran out of memory",
                          "render fewer or lighter prims, or ask the operator for a higher memory_mb") from exc
    except Exception as exc:  # pxr raises Tf errors as RuntimeError; anything else is a renderer failure
        raise RenderError("RenderFailed", f"{type(exc).__name__}: {str(exc)[:500]}",
                          "check the stage composes and its geometry is valid") from exc


def _render(stage: Usd.Stage, request: RenderRequest, limits: RenderLimits, context) -> bytes:  # noqa: ANN001
    check_request(request, limits)
    if not isinstance(stage, Usd.Stage):
        raise RenderError("BadRequest", f"render_stage needs a Usd.Stage, got {type(stage).__name__}")
    aspect = request.width / request.height
    camera = resolve_camera(stage, request)
    plan = plan_scene(stage, limits)
    tris, colors = _finite(*build_geometry(stage, plan))
    skipped = _skipped_note(plan)
    nothing = RenderError("NothingToRender", "the stage has no drawable geometry"
                          + (f" (skipped: {skipped})" if skipped else ""),
                          "add a Mesh, Cube, Sphere, Cylinder, Cone or Capsule with finite points and transform")
    if not len(tris):
        raise nothing
    if camera is not None:
        view, proj = camera_matrices(camera, aspect)
    else:
        lo, hi = tris.min(axis=(0, 1)), tris.max(axis=(0, 1))
        if not (np.isfinite(lo).all() and np.isfinite(hi).all() and np.isfinite(hi - lo).all()):
            raise RenderError("NothingToRender", "the scene's bounds are not finite",
                              "keep coordinates within float range")
        view, proj = auto_matrices(stage, lo, hi, aspect)
    view_tris, normals, keep = _to_view(tris, view)
    if not len(view_tris):
        raise nothing
    pixels = raster.draw(view_tris, normals, colors[keep], proj, request.width, request.height, context)
    text = {"Software": "kitgate.render"}
    if skipped:
        text["Comment"] = f"skipped {plan.skipped_total} prim(s): {skipped}"
    png = encode_png(pixels, text)
    if len(png) > limits.max_png_bytes:
        raise too_large("the PNG size in bytes", len(png), limits.max_png_bytes, "ask for a smaller picture")
    return png
