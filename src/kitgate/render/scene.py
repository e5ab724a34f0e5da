"""What a stage asks the renderer to draw, counted and checked before anything is tessellated.

Why two passes: a hostile stage is cheap to write and expensive to draw (a million-face mesh is a few
lines of usda with a big array; a PointInstancer multiplies any prototype by any count). ``plan_scene``
walks the stage once, counts prims, triangles and instances from the authored arrays alone, validates
every index array with numpy, and raises RenderTooLarge naming the limit before a single triangle exists.
Only then does ``build_geometry`` turn the plan into instanced batches (batch.py): each implicit shape kind
is its unit shape once plus a matrix and a color per prim (read with plain attribute gets, materials bound
in one bulk query), each PointInstancer prototype its triangles once plus a matrix per instance, and the
meshes and capsules one batch of world-space triangles. Prims that cannot be drawn
safely (non-finite transforms or points, indices out of range, counts that do not match indices) are
skipped and named in ``Plan.skipped``; if nothing drawable is left the engine says NothingToRender.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pxr import Gf, Usd, UsdGeom, UsdShade

from kitgate.render import shapes
from kitgate.render.batch import Batch
from kitgate.render.errors import RenderError, too_large
from kitgate.render.types import RenderLimits

SHAPE_KINDS = ("Cube", "Sphere", "Cylinder", "Cone", "Capsule")
DEFAULT_COLOR = np.array([0.7, 0.7, 0.7])
SHAPE_TRIANGLES = {k: (shapes.triangle_count(k, "coarse"), shapes.triangle_count(k, "fine")) for k in SHAPE_KINDS}
MAX_SKIP_NOTES = 20
TIME = Usd.TimeCode.Default()


@dataclass
class Item:
    """One thing to draw: a gprim (alone, or as a prototype part of a PointInstancer)."""

    prim: Usd.Prim
    kind: str  # "Mesh" or one of SHAPE_KINDS
    triangles: int  # at the coarse detail (what the limit is checked against)
    fine: int  # at the fine detail (the same for meshes)
    counts: np.ndarray | None = None  # Mesh: faceVertexCounts, validated
    indices: np.ndarray | None = None  # Mesh: faceVertexIndices, length checked


@dataclass
class Instancer:
    """A PointInstancer: its prototypes' items and the per-instance prototype index."""

    prim: Usd.Prim
    prototypes: list[list[Item]]
    proto_indices: np.ndarray


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)
    instancers: list[Instancer] = field(default_factory=list)
    prims: int = 0
    triangles: int = 0  # shapes counted coarse: the least this scene can be drawn with
    fine_triangles: int = 0  # shapes counted fine
    detail: str = "fine"  # chosen by plan_scene: "coarse" when fine would pass FINE_BUDGET or max_faces
    instances: int = 0
    skipped: list[str] = field(default_factory=list)
    skipped_total: int = 0

    def skip(self, prim: Usd.Prim, why: str) -> None:
        self.skipped_total += 1
        if len(self.skipped) < MAX_SKIP_NOTES:
            self.skipped.append(f"{prim.GetPath()}: {why}")


def _int_array(value: object) -> np.ndarray | None:
    if value is None:
        return np.zeros(0, dtype=np.int64)
    try:
        arr = np.asarray(value, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return None
    return arr if arr.ndim == 1 else None


def _plan_gprim(prim: Usd.Prim, plan: Plan) -> Item | None:
    """An Item with its triangle count, or None (skipped, with the reason recorded)."""
    kind = prim.GetTypeName()
    if kind in SHAPE_KINDS:
        coarse, fine = SHAPE_TRIANGLES[kind]
        return Item(prim, kind, coarse, fine)
    mesh = UsdGeom.Mesh(prim)
    counts = _int_array(mesh.GetFaceVertexCountsAttr().Get())
    indices = _int_array(mesh.GetFaceVertexIndicesAttr().Get())
    if counts is None or indices is None:
        plan.skip(prim, "faceVertexCounts/faceVertexIndices are not integer arrays")
        return None
    if counts.size and counts.min() < 0:
        plan.skip(prim, "faceVertexCounts has a negative count")
        return None
    if int(counts.sum()) != indices.size:
        plan.skip(prim, f"faceVertexCounts add up to {int(counts.sum())} but there are {indices.size} indices")
        return None
    tris = int(np.clip(counts - 2, 0, None).sum())
    if tris == 0:
        plan.skip(prim, "no face with three or more vertices")
        return None
    return Item(prim, "Mesh", tris, tris, counts, indices)


def _add_triangles(plan: Plan, n: int, fine: int, limits: RenderLimits) -> None:
    plan.triangles += n
    plan.fine_triangles += fine
    if plan.triangles > limits.max_faces:
        raise too_large("the triangle count", plan.triangles, limits.max_faces,
                        "render a smaller part of the scene (hide heavy prims with visibility=invisible) "
                        "or ask the operator for a higher max_faces")


def _count_prim(plan: Plan, limits: RenderLimits) -> None:
    plan.prims += 1
    if plan.prims > limits.max_prims:
        raise too_large("the prim count", plan.prims, limits.max_prims,
                        "render a stage with fewer prims, or ask the operator for a higher max_prims")


def _check_clips(prim: Usd.Prim) -> None:
    if prim.HasAuthoredMetadata("clips") or prim.HasAuthoredMetadata("clipSets"):
        raise RenderError("AssetRefused", f"{prim.GetPath()} uses value clips, which the renderer does not load",
                          "remove the clips metadata, or flatten the clip values into the layer")


def _hidden(prim: Usd.Prim, imageable: dict[str, bool]) -> bool:
    """Invisible or guide. ``imageable`` caches IsA(Imageable) per type name (a typed schema decides it)."""
    kind = prim.GetTypeName()
    is_img = imageable.get(kind)
    if is_img is None:
        is_img = imageable[kind] = bool(prim.IsA(UsdGeom.Imageable))
    if not is_img:
        return False
    return prim.GetAttribute("visibility").Get() == "invisible" or prim.GetAttribute("purpose").Get() == "guide"


def _walk(root: Usd.Prim, plan: Plan, limits: RenderLimits, *, in_prototype: bool) -> list[Item]:
    """Items under ``root`` (inclusive), counting prims; PointInstancers become Instancers (top level only)."""
    found: list[Item] = []
    it = iter(Usd.PrimRange(root, Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)))
    imageable: dict[str, bool] = {}
    for prim in it:
        _count_prim(plan, limits)
        _check_clips(prim)
        if _hidden(prim, imageable):
            it.PruneChildren()
            continue
        kind = prim.GetTypeName()
        if kind == "PointInstancer":
            it.PruneChildren()
            if in_prototype:
                plan.skip(prim, "a PointInstancer inside a prototype is not drawn")
            else:
                _plan_instancer(prim, plan, limits)
            continue
        if kind == "Mesh" or kind in SHAPE_KINDS:
            item = _plan_gprim(prim, plan)
            if item is not None:
                found.append(item)
                if not in_prototype:
                    _add_triangles(plan, item.triangles, item.fine, limits)
    return found


def _plan_instancer(prim: Usd.Prim, plan: Plan, limits: RenderLimits) -> None:
    pi = UsdGeom.PointInstancer(prim)
    proto_idx = _int_array(pi.GetProtoIndicesAttr().Get())
    if proto_idx is None:
        plan.skip(prim, "protoIndices is not an integer array")
        return
    plan.instances += proto_idx.size
    if plan.instances > limits.max_instances:
        raise too_large("the PointInstancer instance count", plan.instances, limits.max_instances,
                        "use fewer instances, or ask the operator for a higher max_instances")
    targets = pi.GetPrototypesRel().GetTargets()
    prototypes: list[list[Item]] = []
    for target in targets:
        proto = prim.GetStage().GetPrimAtPath(target)
        prototypes.append(_walk(proto, plan, limits, in_prototype=True) if proto.IsValid() else [])
    valid = (proto_idx >= 0) & (proto_idx < len(prototypes))
    if not valid.all():
        plan.skip(prim, f"{int((~valid).sum())} protoIndices out of range 0..{len(prototypes) - 1} (not drawn)")
    per_proto = np.array([sum(i.triangles for i in p) for p in prototypes], dtype=np.int64)
    per_proto_fine = np.array([sum(i.fine for i in p) for p in prototypes], dtype=np.int64)
    if per_proto.size:
        used = proto_idx[valid]
        _add_triangles(plan, int(per_proto[used].sum()), int(per_proto_fine[used].sum()), limits)
    plan.instancers.append(Instancer(prim, prototypes, proto_idx))


def plan_scene(stage: Usd.Stage, limits: RenderLimits) -> Plan:
    """Count and validate everything drawable on ``stage``; raise RenderTooLarge over any limit."""
    plan = Plan()
    plan.items = _walk(stage.GetPseudoRoot(), plan, limits, in_prototype=False)
    if plan.fine_triangles <= min(limits.max_faces, shapes.FINE_BUDGET):
        plan.detail, plan.triangles = "fine", plan.fine_triangles
    else:
        plan.detail = "coarse"
    return plan


# ----------------------------------------------------------------------------------------- building
def matrix(m: Gf.Matrix4d) -> np.ndarray:
    return np.array(m, dtype=np.float64).reshape(4, 4)


def _shape_params(prim: Usd.Prim, kind: str) -> tuple[float, float, float, str] | None:
    """(scale x, y, z, axis) taking the unit shape of ``kind`` to this prim's size, radius, height and axis,
    or None if those are not finite, positive and valid. Plain Python: it runs once per prim."""
    get = prim.GetAttribute  # the schema's own attributes (their fallbacks apply when not authored)
    if kind == "Cube":
        size = get("size").Get()
        return (size, size, size, "Z") if _finite_pos([size]) else None
    if kind == "Sphere":
        r = get("radius").Get()
        return (r, r, r, "Z") if _finite_pos([r]) else None
    r, h, axis = get("radius").Get(), get("height").Get(), get("axis").Get() or "Z"
    if not _finite_pos([r, h]) or axis not in shapes.AXIS_ROTATION:
        return None
    return (r, r, h, axis)


def _shape_scale(prim: Usd.Prim, kind: str) -> np.ndarray | None:
    """The 3x3 (row-vector) matrix of _shape_params. Not for Capsule (see _capsule)."""
    params = _shape_params(prim, kind)
    if params is None:
        return None
    return np.diag(params[:3]) @ shapes.AXIS_ROTATION[params[3]]


def _capsule(prim: Usd.Prim, detail: str) -> np.ndarray | None:
    schema = UsdGeom.Capsule(prim)
    r, h, axis = schema.GetRadiusAttr().Get(), schema.GetHeightAttr().Get(), schema.GetAxisAttr().Get() or "Z"
    if not _finite_pos([r, h]) or axis not in shapes.AXIS_ROTATION:
        return None
    return shapes.capsule(float(r), float(h), detail) @ shapes.AXIS_ROTATION[axis]


UNIT_SHAPES = {"Cube": shapes.unit_cube, "Sphere": shapes.unit_sphere, "Cylinder": shapes.unit_cylinder,
               "Cone": shapes.unit_cone}


def _unit_shape(prim: Usd.Prim, kind: str, detail: str) -> np.ndarray | None:
    """The shape's triangles in its own space, or None if its parameters are not finite and positive."""
    if kind == "Capsule":
        return _capsule(prim, detail)
    scale = _shape_scale(prim, kind)
    return None if scale is None else UNIT_SHAPES[kind](detail) @ scale


def _finite_pos(values: list[object]) -> bool:
    """Every value a real number in (0, 1e30)."""
    try:
        return all(0 < float(v) < 1e30 for v in values)  # NaN fails both comparisons
    except (TypeError, ValueError):
        return False


def _mesh_triangles(item: Item, plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(triangles (T,3,3), corner point indices (T,3), corner positions in indices (T,3), face of each
    triangle (T,)), or None when the mesh cannot be drawn safely (reason recorded)."""
    assert item.counts is not None and item.indices is not None
    try:
        points = np.asarray(UsdGeom.Mesh(item.prim).GetPointsAttr().Get(), dtype=np.float64)
    except (TypeError, ValueError):
        points = np.zeros((0, 3))
    if points.ndim != 2 or points.shape[1] != 3 or points.shape[0] == 0:
        plan.skip(item.prim, "points is empty or not an array of 3-vectors")
        return None
    if not np.isfinite(points).all():
        plan.skip(item.prim, "points has NaN or infinite values")
        return None
    idx = item.indices
    if idx.size and (idx.min() < 0 or idx.max() >= points.shape[0]):
        plan.skip(item.prim, f"faceVertexIndices out of range 0..{points.shape[0] - 1}")
        return None
    counts = item.counts
    ntri = np.clip(counts - 2, 0, None)
    face = np.repeat(np.arange(counts.size), ntri)
    first = np.cumsum(counts) - counts  # where each face starts in idx
    k = np.arange(face.size) - np.repeat(np.cumsum(ntri) - ntri, ntri)
    i0 = first[face]
    pos = np.stack([i0, i0 + k + 1, i0 + k + 2], axis=1)
    corners = idx[pos]
    return points[corners], corners, pos, face


def _display_color(prim: Usd.Prim) -> tuple[np.ndarray, str] | None:
    pv = UsdGeom.PrimvarsAPI(prim).GetPrimvar("displayColor")
    if not pv or not pv.HasValue():
        return None
    raw = pv.ComputeFlattened(TIME)
    if raw is not None and len(raw) == 1:  # the common case, kept off numpy (it runs once per prim)
        try:
            rgb = [min(max(float(c), 0.0), 1.0) if c == c else 0.7 for c in raw[0]]  # c != c: NaN
        except (TypeError, ValueError):
            return None
        return (np.array([rgb]), pv.GetInterpolation()) if len(rgb) == 3 else None
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if values.ndim != 2 or values.shape[1] != 3 or values.shape[0] == 0:
        return None
    return np.clip(np.nan_to_num(values, nan=0.7, posinf=1.0, neginf=0.0), 0.0, 1.0), pv.GetInterpolation()


class Materials:
    """UsdPreviewSurface diffuseColor of a prim's bound material (cached per material)."""

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray | None] = {}

    def color(self, prim: Usd.Prim) -> np.ndarray | None:
        material, _rel = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
        if not material:
            return None
        key = str(material.GetPath())
        if key not in self._cache:
            self._cache[key] = self._diffuse(material)
        return self._cache[key]

    def colors(self, prims: list[Usd.Prim]) -> list[np.ndarray | None]:
        """color() of many prims with one bulk binding query (UsdShade resolves them together)."""
        bound, _rels = UsdShade.MaterialBindingAPI.ComputeBoundMaterials(prims)
        out: list[np.ndarray | None] = []
        for material in bound:
            if not material:
                out.append(None)
                continue
            key = str(material.GetPath())
            if key not in self._cache:
                self._cache[key] = self._diffuse(material)
            out.append(self._cache[key])
        return out

    @staticmethod
    def _diffuse(material: UsdShade.Material) -> np.ndarray | None:
        shader = material.ComputeSurfaceSource()[0]
        if not shader or shader.GetIdAttr().Get() != "UsdPreviewSurface":
            return None
        inp = shader.GetInput("diffuseColor")
        value = inp.Get() if inp else None
        if value is None:
            return None
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        if arr.size != 3 or not np.isfinite(arr).all():
            return None
        return np.clip(arr, 0.0, 1.0)


def _colors(prim: Usd.Prim, materials: Materials,
            mesh: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Corner colors (T,3,3) (or broadcastable (1,1,3)): material, then displayColor, then grey."""
    bound = materials.color(prim)
    if bound is not None:
        return bound.reshape(1, 1, 3)
    dc = _display_color(prim)
    if dc is None:
        return DEFAULT_COLOR.reshape(1, 1, 3)
    values, interp = dc
    if mesh is not None:
        _, corners, pos, face = mesh
        n = values.shape[0]
        if interp == UsdGeom.Tokens.uniform and n > int(face.max(initial=-1)):
            return values[face][:, None, :]
        if interp in (UsdGeom.Tokens.vertex, UsdGeom.Tokens.varying) and n > int(corners.max(initial=-1)):
            return values[corners]
        if interp == UsdGeom.Tokens.faceVarying and n > int(pos.max(initial=-1)):
            return values[pos]
    return values[0].reshape(1, 1, 3)


def _world(tris: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Corners (T,3,3) under the row-vector matrix ``m`` (one (3T,3) x (3,3) product)."""
    return (tris.reshape(-1, 3) @ m[:3, :3] + m[3, :3]).reshape(tris.shape)


def _item_geometry(item: Item, plan: Plan, materials: Materials) -> tuple[np.ndarray, np.ndarray] | None:
    """(local triangles, corner colors) of one item, or None (skipped)."""
    mesh = None
    if item.kind == "Mesh":
        mesh = _mesh_triangles(item, plan)
        if mesh is None:
            return None
        tris = mesh[0]
    else:
        tris = _unit_shape(item.prim, item.kind, plan.detail)
        if tris is None:
            plan.skip(item.prim, f"{item.kind} size/radius/height/axis is not finite, positive and valid")
            return None
    return tris, _colors(item.prim, materials, mesh)


WHITE = np.ones((1, 1, 3), dtype=np.float32)
VEC3_TYPES = (Gf.Vec3f, Gf.Vec3d, Gf.Vec3h)


def _shape_color(prim: Usd.Prim, bound: np.ndarray | None) -> object:
    """A 3-sequence for one implicit shape: its material's diffuseColor, else its first displayColor, else
    grey. The common case (an unindexed color3f[]) is two attribute reads; anything else takes the general
    path (_display_color)."""
    if bound is not None:
        return bound
    attr = prim.GetAttribute("primvars:displayColor")
    if not attr:
        return DEFAULT_COLOR
    raw = attr.Get()
    if raw is not None and len(raw) and isinstance(raw[0], VEC3_TYPES) and not prim.HasAttribute(
            "primvars:displayColor:indices"):
        return raw[0]
    dc = _display_color(prim)
    return DEFAULT_COLOR if dc is None else dc[0][0]


def _tints(cols: list[object]) -> np.ndarray:
    """(N,3) float32 colors in 0..1 from 3-sequences (NaN is grey, infinities clipped)."""
    with np.errstate(invalid="ignore", over="ignore"):
        values = np.array(cols, dtype=np.float64).reshape(-1, 3)
    return np.clip(np.nan_to_num(values, nan=0.7, posinf=1.0, neginf=0.0), 0.0, 1.0).astype(np.float32)


def _shape_batch(kind: str, plan: Plan, gf_mats: list[Gf.Matrix4d], params: list[tuple[float, float, float, str]],
                 cols: list[object], prims: list[Usd.Prim]) -> Batch | None:
    """The unit ``kind`` under every prim's size/axis times its world transform, one tint per prim."""
    world = np.array(gf_mats, dtype=np.float64).reshape(-1, 4, 4)
    ok = np.isfinite(world).all(axis=(1, 2))
    for i in np.nonzero(~ok)[0]:
        plan.skip(prims[int(i)], "its world transform has NaN or infinite values")
    axes = np.array([shapes.AXIS_ROTATION[p[3]] for p in params]).reshape(-1, 3, 3)
    scale = np.array([p[:3] for p in params], dtype=np.float64).reshape(-1, 3)
    mats = world.copy()
    with np.errstate(invalid="ignore", over="ignore"):
        mats[:, :3, :3] = (scale[:, :, None] * axes) @ world[:, :3, :3]  # diag(scale) @ axis @ world
    ok &= np.isfinite(mats).all(axis=(1, 2))  # a huge size under a huge scale: nothing finite to draw
    if not ok.any():
        return None
    return Batch(UNIT_SHAPES[kind](plan.detail), WHITE, mats[ok], _tints(cols)[ok])


def build_geometry(stage: Usd.Stage, plan: Plan) -> list[Batch]:
    """Everything in the plan as instanced batches: one per implicit shape kind (the unit shape once, a
    matrix and a tint per prim), one per PointInstancer prototype part (its triangles once, a matrix per
    instance), and one of all meshes and capsules in world space (identity matrix)."""
    cache = UsdGeom.XformCache(TIME)
    materials = Materials()
    batches: list[Batch] = []
    loose_tris: list[np.ndarray] = []
    loose_cols: list[np.ndarray] = []
    by_kind: dict[str, tuple[list[Usd.Prim], list[Gf.Matrix4d], list[tuple[float, float, float, str]]]] = {
        k: ([], [], []) for k in UNIT_SHAPES}

    for item in plan.items:
        if item.kind in UNIT_SHAPES:  # batched below: one matrix, one color per prim
            params = _shape_params(item.prim, item.kind)
            if params is None:
                plan.skip(item.prim, f"{item.kind} size/radius/height/axis is not finite, positive and valid")
                continue
            prims, gf_mats, kind_params = by_kind[item.kind]
            prims.append(item.prim)
            gf_mats.append(cache.GetLocalToWorldTransform(item.prim))
            kind_params.append(params)
            continue
        m = matrix(cache.GetLocalToWorldTransform(item.prim))
        if not np.isfinite(m).all():
            plan.skip(item.prim, "its world transform has NaN or infinite values")
            continue
        geo = _item_geometry(item, plan, materials)
        if geo is not None:
            tris = _world(geo[0], m)
            loose_tris.append(tris)
            loose_cols.append(np.broadcast_to(geo[1].astype(np.float32), tris.shape))

    for kind, (prims, gf_mats, params) in by_kind.items():
        if prims:
            cols = [_shape_color(p, b) for p, b in zip(prims, materials.colors(prims), strict=True)]
            batch = _shape_batch(kind, plan, gf_mats, params, cols, prims)
            if batch is not None:
                batches.append(batch)

    for inst in plan.instancers:
        _build_instancer(inst, cache, plan, materials, batches)

    if loose_tris:
        batches.append(Batch(np.concatenate(loose_tris), np.concatenate(loose_cols), np.eye(4)[None],
                             np.ones((1, 3), dtype=np.float32)))
    return batches


def _build_instancer(inst: Instancer, cache: UsdGeom.XformCache, plan: Plan, materials: Materials,
                     batches: list[Batch]) -> None:
    pi = UsdGeom.PointInstancer(inst.prim)
    base = matrix(cache.GetLocalToWorldTransform(inst.prim))
    xforms = pi.ComputeInstanceTransformsAtTime(TIME, TIME)
    if xforms is None or len(xforms) != inst.proto_indices.size:
        plan.skip(inst.prim, "positions/orientations/scales do not match protoIndices")
        return
    mats = np.array(xforms, dtype=np.float64).reshape(-1, 4, 4) if len(xforms) else np.zeros((0, 4, 4))
    with np.errstate(invalid="ignore", over="ignore"):
        world = mats @ base
    ok = np.isfinite(world).all(axis=(1, 2))
    if not ok.all():
        plan.skip(inst.prim, f"{int((~ok).sum())} instances have NaN or infinite transforms (not drawn)")
    targets = pi.GetPrototypesRel().GetTargets()
    for p, items in enumerate(inst.prototypes):
        chosen = world[ok & (inst.proto_indices == p)]
        if not chosen.size:
            continue
        proto_root = inst.prim.GetStage().GetPrimAtPath(targets[p])
        part_tris: list[np.ndarray] = []
        part_cols: list[np.ndarray] = []
        for item in items:
            rel, _reset = cache.ComputeRelativeTransform(item.prim, proto_root.GetParent())
            local = matrix(rel)
            if not np.isfinite(local).all():
                plan.skip(item.prim, "its transform inside the prototype has NaN or infinite values")
                continue
            geo = _item_geometry(item, plan, materials)
            if geo is None:
                continue
            tris = _world(geo[0], local)  # (T,3,3) in prototype space
            keep = np.isfinite(tris).all(axis=(1, 2))
            part_tris.append(tris[keep])
            part_cols.append(np.broadcast_to(geo[1].astype(np.float32), tris.shape)[keep])
        if part_tris and sum(len(t) for t in part_tris):  # the whole prototype once, under every instance
            batches.append(Batch(np.concatenate(part_tris), np.concatenate(part_cols), chosen,
                                 np.ones((chosen.shape[0], 3), dtype=np.float32)))
