"""The render itself: a Usd.Stage and a request in, a PNG out, every failure a RenderError.

Why one function: the child process (isolated.py) and the tests call exactly this, so the pixels the tests
check are the pixels a job gets. Order matters for safety: the request is checked, the scene is counted and
validated (scene.plan_scene) and the camera resolved before any triangle is built or any GL context made.
"""

from __future__ import annotations

import numpy as np
from pxr import Usd

from kitgate.render import raster
from kitgate.render.batch import Batch
from kitgate.render.camera import auto_matrices, camera_matrices, resolve_camera
from kitgate.render.errors import RenderError, too_large
from kitgate.render.png import encode_png
from kitgate.render.scene import Plan, build_geometry, plan_scene
from kitgate.render.types import RenderLimits, RenderRequest, check_request

EXACT_BOUNDS_TRIANGLES = 200_000  # batches up to this size frame on their triangles, larger ones on boxes
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _finite(batch: Batch) -> Batch | None:
    """Drop triangles with a NaN or infinite corner (they would poison the bounds) or, in an instanced
    batch, with no area in its own space (they draw nothing); None if none is left."""
    keep = np.isfinite(batch.tris).all(axis=(1, 2))
    if batch.mats.shape[0] > 1:
        with np.errstate(over="ignore", invalid="ignore"):
            keep &= _has_area(batch.tris)
    if keep.all():
        return batch
    if not keep.any():
        return None
    colors = batch.colors if batch.colors.shape[0] == 1 else batch.colors[keep]
    return Batch(batch.tris[keep], colors, batch.mats, batch.tints)


def _box(tris: np.ndarray) -> np.ndarray:
    """The eight corners (8,3) of the bounding box of (T,3,3) triangles."""
    lo, hi = tris.min(axis=(0, 1)), tris.max(axis=(0, 1))
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def _has_area(tris: np.ndarray) -> np.ndarray:
    """Which (T,3,3) triangles have a finite, non-zero area (the others would draw nothing or garbage)."""
    a, b = tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
    cross = np.empty_like(a)  # written out: np.cross is 4x slower on millions of rows
    cross[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    cross[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    cross[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    length = np.einsum("ij,ij->i", cross, cross)
    return (length > 0) & np.isfinite(length)


def _bounds(batches: list[Batch]) -> tuple[np.ndarray, np.ndarray]:
    """World bounds: exact for small batches, the instances' transformed boxes for big ones (a little
    loose for rotated shapes, never too tight)."""
    los, his = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for b in batches:
            local = b.tris if b.triangles <= EXACT_BOUNDS_TRIANGLES else _box(b.tris)[None]
            pts = (local.reshape(1, -1, 3) @ b.mats[:, :3, :3] + b.mats[:, None, 3, :3]).reshape(-1, 3)
            los.append(pts.min(axis=0))
            his.append(pts.max(axis=0))
    return np.min(los, axis=0), np.max(his, axis=0)


def _to_view(batch: Batch, view: np.ndarray) -> Batch | None:
    """The batch in view space as float32, or None. A single-matrix batch (the meshes) is transformed here
    in float64 and its triangles that do not fit float32 dropped; an instanced batch keeps its triangles
    and gets view-space matrices, dropping instances whose box does not fit float32."""
    with np.errstate(over="ignore", invalid="ignore"):
        mv = batch.mats @ view
        if batch.mats.shape[0] == 1:
            m = mv[0]
            vt = (batch.tris.reshape(-1, 3) @ m[:3, :3] + m[3, :3]).reshape(batch.tris.shape)
            keep = _has_area(vt)
            vt = vt.astype(np.float32)
            keep &= np.isfinite(vt).all(axis=(1, 2))
            if not keep.any():
                return None
            colors = batch.colors if batch.colors.shape[0] == 1 else batch.colors[keep]
            return Batch(vt[keep], colors.astype(np.float32), np.eye(4, dtype=np.float32)[None],
                         batch.tints.astype(np.float32))
        box = np.concatenate([_box(batch.tris), np.ones((8, 1))], axis=1)  # (8,4)
        corners = box[None] @ mv  # (N,8,4)
        keep = (np.abs(corners) < FLOAT32_MAX / 4).all(axis=(1, 2)) & (np.abs(mv) < FLOAT32_MAX).all(axis=(1, 2))
    if not keep.any():
        return None
    return Batch(batch.tris.astype(np.float32), batch.colors.astype(np.float32), mv[keep].astype(np.float32),
                 batch.tints[keep].astype(np.float32))


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
    batches = [b for b in (_finite(b) for b in build_geometry(stage, plan)) if b is not None]
    skipped = _skipped_note(plan)
    nothing = RenderError("NothingToRender", "the stage has no drawable geometry"
                          + (f" (skipped: {skipped})" if skipped else ""),
                          "add a Mesh, Cube, Sphere, Cylinder, Cone or Capsule with finite points and transform")
    if not batches:
        raise nothing
    if camera is not None:
        view, proj = camera_matrices(camera, aspect)
    else:
        lo, hi = _bounds(batches)
        if not (np.isfinite(lo).all() and np.isfinite(hi).all() and np.isfinite(hi - lo).all()):
            raise RenderError("NothingToRender", "the scene's bounds are not finite",
                              "keep coordinates within float range")
        view, proj = auto_matrices(stage, lo, hi, aspect)
    in_view = [v for v in (_to_view(b, view) for b in batches) if v is not None]
    if not in_view:
        raise nothing
    pixels = raster.draw(in_view, proj, request.width, request.height, context)
    text = {"Software": "kitgate.render"}
    if skipped:
        text["Comment"] = f"skipped {plan.skipped_total} prim(s): {skipped}"
    png = encode_png(pixels, text)
    if len(png) > limits.max_png_bytes:
        raise too_large("the PNG size in bytes", len(png), limits.max_png_bytes, "ask for a smaller picture")
    return png
