"""Spec-level scene delta: what an isolated job changed in its copy of the edit-target layer.

WHY spec-level: sending the whole layer back and re-importing it costs O(scene) per job (design.md
measured ~75 ms at 10,000 prims). Instead the child records the paths `Usd.Notice.ObjectsChanged`
reports, reduces them to the top-most changed prims/properties and copies only those specs. The parent
applies them with `Sdf.CopySpec` inside one `Sdf.ChangeBlock`, so the cost follows the edit size.

Two halves:
- child side: `ChangeRecorder` (listen while the script runs) and `build_delta()` (-> JSON-safe dict);
- parent side: `Delta.from_wire()` (validate untrusted data) and `Delta.apply_to()` (atomic apply).

The child is untrusted: everything in the wire dict is checked in `from_wire` (sizes, path syntax,
metadata keys, composition asset paths), and `apply_to` only copies the declared specs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

WIRE_VERSION = 1
# A delta is applied on the host's thread (Kit: the main thread) outside the job's limits, so its
# size is a limit of its own: beyond these the job fails with limit "result".
MAX_DELTA_BYTES = 32 * 1024 * 1024  # serialized delta layer text
MAX_DELTA_SPECS = 100_000  # prim + property specs carried
MAX_DELTA_PATHS = 100_000  # copy + remove entries
MAX_TRACKED_PATHS = 500_000  # beyond this the recorder falls back to a whole-layer delta
CHANGED_PRIMS_CAP = 1000  # reported list; the total is reported separately
MAX_SUBLAYERS = 256
# Sublayers compose foreign content into the host's stage: the parent re-checks every sublayer path
# against the policy's asset roots (like references) before it applies them.
SUBLAYER_KEYS = frozenset({"subLayers", "subLayerOffsets"})
# Root-layer metadata an isolated job may change.
META_KEYS = SUBLAYER_KEYS | frozenset(
    {
        "defaultPrim",
        "upAxis",
        "metersPerUnit",
        "kilogramsPerUnit",
        "startTimeCode",
        "endTimeCode",
        "timeCodesPerSecond",
        "framesPerSecond",
        "documentation",
        "comment",
        "customLayerData",
    }
)


class DeltaError(Exception):
    """A delta that cannot be built, is malformed, or could not be applied."""


class DeltaTooLarge(DeltaError):
    """The job changed more than one delta may carry (reported as limit "result")."""


class UnsupportedEdit(DeltaError):
    """The script changed something an isolated job cannot carry back (e.g. the layer's owner)."""


def _pxr() -> tuple[Any, Any, Any]:
    from pxr import Sdf, Tf, Usd  # lazy: sandbox must import without pxr

    return Sdf, Tf, Usd


def _sublayers(layer: Any) -> tuple[list[str], list[Any]]:
    return list(layer.subLayerPaths), list(layer.subLayerOffsets)


def _set_sublayers(layer: Any, paths: list[str], offsets: list[Any]) -> None:
    """Sdf has no setter for the offsets vector (GetInfo cannot even convert it): assign per index."""
    layer.subLayerPaths = list(paths)
    for i, offset in enumerate(offsets[: len(paths)]):
        layer.subLayerOffsets[i] = offset


def _layer_meta(layer: Any) -> dict[str, Any]:
    root = layer.pseudoRoot
    out: dict[str, Any] = {}
    for key in root.ListInfoKeys():
        if key == "subLayers":
            out[key] = list(layer.subLayerPaths)
        elif key == "subLayerOffsets":
            out[key] = [(o.offset, o.scale) for o in layer.subLayerOffsets]
        else:
            try:
                out[key] = root.GetInfo(key)
            except TypeError:  # a value type without a Python converter: compare by repr
                out[key] = ("unconvertible", repr(key))
    return out


# ---------------------------------------------------------------------------------------------- child


class ChangeRecorder:
    """Collects the paths a job changed on one stage (runs inside the child, trusted code)."""

    def __init__(self, stage: Any, layer: Any) -> None:
        Sdf, Tf, Usd = _pxr()
        self._layer = layer
        self._resynced: set[Any] = set()
        self._info: set[Any] = set()
        self.overflow = False
        self._meta_before = _layer_meta(layer)
        self._roots_before = [spec.name for spec in layer.rootPrims]
        self._key = Tf.Notice.Register(Usd.Notice.ObjectsChanged, self._on_change, stage)

    def _on_change(self, notice: Any, _sender: Any) -> None:
        if self.overflow:
            return
        self._resynced.update(notice.GetResyncedPaths())
        self._info.update(notice.GetChangedInfoOnlyPaths())
        if len(self._resynced) + len(self._info) > MAX_TRACKED_PATHS:
            self.overflow = True
            self._resynced.clear()
            self._info.clear()

    def stop(self) -> None:
        if self._key is not None:
            self._key.Revoke()
            self._key = None


def changed_prim_paths(recorder: ChangeRecorder) -> tuple[list[str], int]:
    """Prim paths a job changed (capped list, total) without building a delta (in-process mode)."""
    Sdf, _Tf, _Usd = _pxr()
    recorder.stop()
    if recorder.overflow:
        return [], MAX_TRACKED_PATHS
    paths = {p.StripAllVariantSelections().GetPrimPath() for p in recorder._resynced | recorder._info}
    paths.discard(Sdf.Path.absoluteRootPath)
    names = sorted(p.pathString for p in paths)
    return names[:CHANGED_PRIMS_CAP], len(names)


def count_specs(layer: Any, roots: Iterable[Any], limit: int) -> int:
    """Prim, property and variant specs under `roots` (stops counting once past `limit`)."""
    from pxr import Sdf

    n = 0
    stack = [layer.GetObjectAtPath(r) for r in roots]
    while stack and n <= limit:
        spec = stack.pop()
        if spec is None:
            continue
        n += 1
        if isinstance(spec, Sdf.PrimSpec):
            n += len(spec.properties)
            stack.extend(spec.nameChildren.values())
            for vset in spec.variantSets.values():
                stack.extend(v.primSpec for v in vset.variants.values())
    return n


def _variant_owner(layer: Any, path: Any) -> Any | None:
    """Top-most ancestor-or-self prim spec with variant sets: edits under it may live in a variant."""
    for prefix in path.GetPrimPath().GetPrefixes():
        spec = layer.GetPrimAtPath(prefix)
        if spec is None:
            return None
        if len(spec.variantSets) > 0:
            return prefix
    return None


def _top_most(paths: Iterable[Any]) -> set[Any]:
    chosen = set(paths)
    return {p for p in chosen if not any(a in chosen for a in p.GetPrefixes()[:-1])}


def build_delta(recorder: ChangeRecorder) -> dict[str, Any]:
    """Reduce the recorded paths to a JSON-safe delta (layer text + path lists)."""
    Sdf, _Tf, _Usd = _pxr()
    recorder.stop()
    layer = recorder._layer
    absolute_root = Sdf.Path.absoluteRootPath

    meta_after = _layer_meta(layer)
    before = recorder._meta_before
    changed_keys = {k for k in set(meta_after) | set(before) if meta_after.get(k) != before.get(k)}
    bad = changed_keys - META_KEYS
    if bad:
        raise UnsupportedEdit(f"isolated jobs cannot change layer metadata {', '.join(sorted(bad))}")

    prims: set[Any] = set()
    props: set[Any] = set()
    reported: set[Any] = set()
    everything = recorder.overflow or absolute_root in recorder._resynced
    if everything:
        # Whole-layer change (Clear/ImportFromString/too many paths): diff the root prims.
        names = {spec.name for spec in layer.rootPrims} | set(recorder._roots_before)
        prims = {absolute_root.AppendChild(n) for n in names}
        reported = set(prims)
    else:
        resynced_prims: set[Any] = set()
        for path in recorder._resynced | recorder._info:
            if path == absolute_root:
                continue
            path = path.StripAllVariantSelections()
            reported.add(path.GetPrimPath())
            owner = _variant_owner(layer, path)
            if owner is not None:
                prims.add(owner)
            elif path.IsPropertyPath():
                props.add(path)
            else:
                prims.add(path.GetPrimPath())
                if path in recorder._resynced:
                    resynced_prims.add(path.GetPrimPath())
        prims = _top_most(prims)
        props = {p for p in props if not any(a in prims for a in p.GetPrimPath().GetPrefixes())}

    delta = Sdf.Layer.CreateAnonymous(".usda")
    copy: list[str] = []
    remove: list[str] = []
    order: dict[str, list[str]] = {}
    budget = MAX_DELTA_SPECS

    def ensure_parent(path: Any) -> None:
        parent = path.GetParentPath()
        if parent != absolute_root and delta.GetPrimAtPath(parent) is None:
            Sdf.CreatePrimInLayer(delta, parent)

    # Group prims by parent so siblings are applied in the child's order (new specs append).
    for path in sorted(prims, key=lambda p: p.pathString):
        if layer.GetPrimAtPath(path) is None:
            remove.append(path.pathString)
    parents = sorted({p.GetParentPath() for p in prims}, key=lambda p: p.pathString)
    for parent in parents:
        parent_spec = layer.pseudoRoot if parent == absolute_root else layer.GetPrimAtPath(parent)
        if parent_spec is None:
            continue
        names = list(parent_spec.nameChildren.keys())
        mine = {p.name for p in prims if p.GetParentPath() == parent}
        for name in names:
            if name in mine:
                path = parent.AppendChild(name)
                budget -= count_specs(layer, [path], budget)  # before copying: stop early on a flood
                if budget < 0:
                    raise DeltaTooLarge(f"the job changed more than {MAX_DELTA_SPECS} specs; split it into "
                                        "smaller jobs")
                ensure_parent(path)
                if not Sdf.CopySpec(layer, path, delta, path):
                    raise DeltaError(f"could not copy {path}")
                copy.append(path.pathString)
        if everything or any(parent.AppendChild(n) in resynced_prims for n in mine):
            order[parent.pathString] = names
    for path in sorted(props, key=lambda p: p.pathString):
        if layer.GetPropertyAtPath(path) is None:
            remove.append(path.pathString)
            continue
        prim_path = path.GetPrimPath()
        if delta.GetPrimAtPath(prim_path) is None:
            Sdf.CreatePrimInLayer(delta, prim_path)
        if not Sdf.CopySpec(layer, path, delta, path):
            raise DeltaError(f"could not copy {path}")
        copy.append(path.pathString)

    sub_set: list[str] = []
    sub_clear: list[str] = []
    if changed_keys & SUBLAYER_KEYS:  # paths and offsets travel together (offsets are per index)
        changed_keys -= SUBLAYER_KEYS
        paths, offsets = _sublayers(layer)
        if len(paths) > MAX_SUBLAYERS:
            raise UnsupportedEdit(f"a layer may carry at most {MAX_SUBLAYERS} sublayers")
        if any(p.startswith("anon:") for p in paths):
            raise UnsupportedEdit("isolated jobs cannot sublayer an anonymous layer (it exists only in the job's "
                                  "process); author its prims on the stage instead, or sublayer a file under the "
                                  "asset roots")
        _set_sublayers(delta, paths, offsets)
        (sub_set if paths else sub_clear).extend(sorted(SUBLAYER_KEYS))
    meta_clear = sorted(k for k in changed_keys if k not in meta_after)
    meta_set = sorted(changed_keys - set(meta_clear))
    for key in meta_set:
        delta.pseudoRoot.SetInfo(key, meta_after[key])

    if len(copy) + len(remove) > MAX_DELTA_PATHS or len(props) > budget:
        raise DeltaTooLarge(f"the job changed more than {MAX_DELTA_SPECS} specs; split it into smaller jobs")
    text = delta.ExportToString()
    if len(text.encode()) > MAX_DELTA_BYTES:
        raise DeltaTooLarge(f"the scene delta exceeds {MAX_DELTA_BYTES} bytes; split the job")
    changed = sorted(p.pathString for p in reported)
    return {
        "version": WIRE_VERSION,
        "layer": text,
        "copy": copy,
        "remove": remove,
        "order": order,
        "meta_set": meta_set + sub_set,
        "meta_clear": meta_clear + sub_clear,
        "changed": changed[:CHANGED_PRIMS_CAP],
        "changed_total": len(changed),
    }


# --------------------------------------------------------------------------------------------- parent


def _str_list(data: dict[str, Any], key: str, limit: int) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) for v in value):
        raise DeltaError(f"delta field {key!r} is malformed")
    return value


@dataclass
class Delta:
    """A validated delta ready to apply on the host's thread (Kit: main thread, one undo group)."""

    layer: Any
    copy: list[Any] = field(default_factory=list)
    remove: list[Any] = field(default_factory=list)
    order: dict[Any, list[str]] = field(default_factory=dict)
    meta_set: list[str] = field(default_factory=list)
    meta_clear: list[str] = field(default_factory=list)
    changed_prims: list[str] = field(default_factory=list)
    changed_prims_total: int = 0
    wire: dict[str, Any] | None = field(default=None, repr=False)  # as received (the fork server re-applies it)

    @property
    def empty(self) -> bool:
        return not (self.copy or self.remove or self.meta_set or self.meta_clear or self.order)

    @classmethod
    def from_wire(
        cls,
        data: Any,
        *,
        asset_allowed: Callable[[str, Any], bool] | None = None,
        max_bytes: int = MAX_DELTA_BYTES,
    ) -> Delta:
        """Parse and validate a child's delta. `asset_allowed(asset_path, delta_layer)` vets composition arcs."""
        Sdf, _Tf, _Usd = _pxr()
        if not isinstance(data, dict) or data.get("version") != WIRE_VERSION:
            raise DeltaError("delta has an unknown format")
        text = data.get("layer")
        if not isinstance(text, str):
            raise DeltaError("delta layer is missing")
        if len(text) > max_bytes or len(text.encode()) > max_bytes:
            raise DeltaTooLarge(f"the scene delta exceeds {max_bytes} bytes")
        copy_s = _str_list(data, "copy", MAX_DELTA_PATHS)
        remove_s = _str_list(data, "remove", MAX_DELTA_PATHS)
        meta_set = _str_list(data, "meta_set", len(META_KEYS))
        meta_clear = _str_list(data, "meta_clear", len(META_KEYS))
        changed = _str_list(data, "changed", CHANGED_PRIMS_CAP)
        total = data.get("changed_total", len(changed))
        if not isinstance(total, int) or total < 0:
            raise DeltaError("delta field 'changed_total' is malformed")
        if not set(meta_set) | set(meta_clear) <= META_KEYS:
            raise DeltaError("delta changes layer metadata that isolated jobs may not change")
        raw_order = data.get("order", {})
        if not isinstance(raw_order, dict) or len(raw_order) > MAX_DELTA_PATHS:
            raise DeltaError("delta field 'order' is malformed")

        def parse(p: str, *, prop_ok: bool = True) -> Any:
            if not Sdf.Path.IsValidPathString(p):
                raise DeltaError(f"invalid path in delta: {p[:200]!r}")
            path = Sdf.Path(p)
            ok = path.IsAbsolutePath() and not path.ContainsPrimVariantSelection()
            ok = ok and (path.IsPrimPath() or (prop_ok and path.IsPrimPropertyPath()))
            if not ok:
                raise DeltaError(f"path not allowed in delta: {p[:200]!r}")
            return path

        layer = Sdf.Layer.CreateAnonymous(".usda")
        try:
            ok = layer.ImportFromString(text)
        except Exception as exc:  # Tf.ErrorException: untrusted text
            raise DeltaError(f"delta layer does not parse: {str(exc)[:300]}") from None
        if not ok:
            raise DeltaError("delta layer does not parse")
        copy = [parse(p) for p in copy_s]
        remove = [parse(p) for p in remove_s]
        for path in copy:
            if layer.GetObjectAtPath(path) is None:
                raise DeltaError(f"delta declares {path} but carries no spec for it")
        if count_specs(layer, copy, MAX_DELTA_SPECS) > MAX_DELTA_SPECS:
            raise DeltaTooLarge(f"the scene delta carries more than {MAX_DELTA_SPECS} specs")
        if set(copy) & set(remove):
            raise DeltaError("delta both copies and removes the same path")
        order: dict[Any, list[str]] = {}
        for parent_s, names in raw_order.items():
            parent = Sdf.Path.absoluteRootPath if parent_s == "/" else parse(parent_s, prop_ok=False)
            valid = isinstance(names, list) and all(isinstance(n, str) and Sdf.Path.IsValidIdentifier(n) for n in names)
            if not valid:
                raise DeltaError("delta field 'order' is malformed")
            order[parent] = names
        if asset_allowed is not None:
            for asset in layer.GetCompositionAssetDependencies():
                if not asset_allowed(asset, layer):
                    raise DeltaError(f"delta refers to an asset outside the policy's roots: {asset[:200]!r}")
            for asset in _asset_values(layer, copy):
                if not asset_allowed(asset, layer, composition=False):
                    raise DeltaError(f"delta carries an asset value outside the policy's roots: {asset[:200]!r}")
        for key in meta_set:
            if key not in SUBLAYER_KEYS and key not in layer.pseudoRoot.ListInfoKeys():
                raise DeltaError(f"delta declares metadata {key!r} but carries no value")
        if (set(meta_set) | set(meta_clear)) & SUBLAYER_KEYS:
            paths = list(layer.subLayerPaths)
            if len(paths) > MAX_SUBLAYERS or not all(isinstance(p, str) and p for p in paths):
                raise DeltaError("delta field 'subLayers' is malformed")
        return cls(layer, copy, remove, order, meta_set, meta_clear, changed, total, data)

    def apply_to(self, stage_or_layer: Any) -> list[str]:
        """Apply atomically to the stage's edit-target layer; on any failure restore it and re-raise."""
        Sdf, _Tf, _Usd = _pxr()
        target = stage_or_layer
        if hasattr(stage_or_layer, "GetEditTarget"):
            target = stage_or_layer.GetEditTarget().GetLayer()
        if self.empty:
            return list(self.changed_prims)
        backup = _Backup.take(target, self.copy + self.remove, self.order, self.meta_set + self.meta_clear)
        try:
            with Sdf.ChangeBlock():
                self._apply(target)
        except BaseException:
            with Sdf.ChangeBlock():
                backup.restore(target)
            raise
        return list(self.changed_prims)

    def _apply(self, target: Any) -> None:
        Sdf, _Tf, _Usd = _pxr()
        for path in self.remove:
            _remove_spec(target, path)
        for path in self.copy:
            _ensure_prim(target, path.GetParentPath() if path.IsPrimPath() else path.GetPrimPath())
            if not Sdf.CopySpec(self.layer, path, target, path):
                raise DeltaError(f"could not apply {path}")
        for parent, names in self.order.items():
            _reorder_children(target, parent, names)
        sublayers = (set(self.meta_set) | set(self.meta_clear)) & SUBLAYER_KEYS
        if sublayers:  # checked against the asset roots in from_wire (GetCompositionAssetDependencies)
            _set_sublayers(target, *_sublayers(self.layer))
        for key in self.meta_set:
            if key not in SUBLAYER_KEYS:
                target.pseudoRoot.SetInfo(key, self.layer.pseudoRoot.GetInfo(key))
        for key in self.meta_clear:
            if key not in SUBLAYER_KEYS:
                target.pseudoRoot.ClearInfo(key)


def _asset_values(layer: Any, roots: list[Any]) -> list[str]:
    """Every asset-typed attribute value (default and time samples) under the declared paths."""
    from pxr import Sdf

    found: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, Sdf.AssetPath):
            found.append(value.path)
        elif isinstance(value, (list, tuple)) or type(value).__name__ == "AssetPathArray":
            for item in value:
                collect(item)

    def visit(path: Any) -> None:
        if not path.IsPropertyPath():
            return
        spec = layer.GetAttributeAtPath(path)
        if spec is None or spec.typeName.type != Sdf.ValueTypeNames.Asset.type and \
                spec.typeName.type != Sdf.ValueTypeNames.AssetArray.type:
            return
        collect(spec.default)
        for t in layer.ListTimeSamplesForPath(path):
            collect(layer.QueryTimeSample(path, t))

    for root in roots:
        layer.Traverse(root, visit)
    return found


def _ensure_prim(layer: Any, path: Any) -> None:
    from pxr import Sdf

    if path != Sdf.Path.absoluteRootPath and layer.GetPrimAtPath(path) is None:
        Sdf.CreatePrimInLayer(layer, path)


def _remove_spec(layer: Any, path: Any) -> None:
    if path.IsPropertyPath():
        prop = layer.GetPropertyAtPath(path)
        if prop is not None:
            prop.owner.RemoveProperty(prop)
        return
    spec = layer.GetPrimAtPath(path)
    if spec is None:
        return
    parent = layer.GetPrimAtPath(path.GetParentPath())
    del parent.nameChildren[spec.name]


def _children(layer: Any, parent: Any) -> list[str]:
    spec = layer.GetPrimAtPath(parent)
    return [] if spec is None else list(spec.nameChildren.keys())


def _reorder_children(layer: Any, parent: Any, names: list[str]) -> None:
    """Make the parent's child order follow `names` (extra children keep their relative order).

    Sdf has no working in-place reorder here (NamespaceEdit.Reorder fails in 26.11), so the children
    after the first mismatch are moved out to a temporary root name and back, which appends them.
    """
    from pxr import Sdf

    current = _children(layer, parent)
    wanted_set = set(names)
    existing = set(current)
    desired = [n for n in names if n in existing] + [n for n in current if n not in wanted_set]
    if desired == current:
        return
    start = next(i for i, (a, b) in enumerate(zip(desired, current, strict=True)) if a != b)
    for name in desired[start:]:
        src = parent.AppendChild(name)
        tmp = Sdf.Path.absoluteRootPath.AppendChild(f"kitgate_reorder_{name}")
        n = 0
        while layer.GetPrimAtPath(tmp) is not None:
            n += 1
            tmp = Sdf.Path.absoluteRootPath.AppendChild(f"kitgate_reorder_{n}_{name}")
        for a, b in ((src, tmp), (tmp, src)):
            edit = Sdf.BatchNamespaceEdit()
            edit.Add(a, b)
            if not layer.Apply(edit):
                raise DeltaError(f"could not reorder {src}")


@dataclass
class _Backup:
    """The target's specs, child orders and metadata that an apply may touch (for rollback)."""

    layer: Any
    present: list[Any]
    absent: list[Any]
    orders: dict[Any, list[str]]
    meta: dict[str, Any]
    sublayers: tuple[list[str], list[Any]] | None = None

    @classmethod
    def take(cls, target: Any, paths: list[Any], order: dict[Any, list[str]], keys: list[str]) -> _Backup:
        from pxr import Sdf

        backup = Sdf.Layer.CreateAnonymous(".usda")
        present, absent = [], []
        parents = set(order)
        for path in paths:
            if path.IsPrimPath():
                parents.add(path.GetParentPath())
            if target.GetObjectAtPath(path) is None:
                absent.append(path)
                continue
            _ensure_prim(backup, path.GetParentPath() if path.IsPrimPath() else path.GetPrimPath())
            if not Sdf.CopySpec(target, path, backup, path):
                raise DeltaError(f"could not back up {path}")
            present.append(path)
        orders = {p: _children(target, p) for p in parents}
        root = target.pseudoRoot
        plain = [k for k in keys if k not in SUBLAYER_KEYS]
        meta = {k: root.GetInfo(k) for k in plain if root.HasInfo(k)}
        subs = _sublayers(target) if set(keys) & SUBLAYER_KEYS else None
        return cls(backup, present, absent, orders, {k: meta.get(k) for k in plain}, subs)

    def restore(self, target: Any) -> None:
        from pxr import Sdf

        for path in self.absent:
            _remove_spec(target, path)
        for path in self.present:
            _ensure_prim(target, path.GetParentPath() if path.IsPrimPath() else path.GetPrimPath())
            Sdf.CopySpec(self.layer, path, target, path)
        for parent, names in self.orders.items():
            _reorder_children(target, parent, names)
        for key, value in self.meta.items():
            if value is None:
                target.pseudoRoot.ClearInfo(key)
            else:
                target.pseudoRoot.SetInfo(key, value)
        if self.sublayers is not None:
            _set_sublayers(target, *self.sublayers)
