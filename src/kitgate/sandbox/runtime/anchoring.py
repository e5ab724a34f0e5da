"""Relative asset paths stay anchored where they were checked, whatever moves the specs that hold them.

WHY: USD resolves a relative asset path against the layer that holds it (a file layer's directory; the
process's working directory for anonymous and in-memory layers). The sandbox checks a path against the
layer it is authored in, so `../../lib/x.usda` authored deep below the asset root is inside the root.
Moved *verbatim* to a layer with another anchor (Sdf.CopySpec, Sdf.Layer.TransferContent, a property
flattened into the session layer, ...), the same text resolves somewhere that was never checked, and
the job reads a file outside every root.

The invariant this module keeps: **a relative asset path only ever lives in a layer with the anchor it
was checked against.** Every operation that moves specs between layers runs through
:func:`anchored_move`, which (1) before the move, anchors every relative asset path of the source region
at the source layer and checks the result against the asset roots, refusing the whole move if one lands
outside; (2) performs the move; (3) if the destination's anchor differs, rewrites each moved relative
path to the absolute path it was checked as. A move within one anchor keeps the portable relative text.
The walk is generic over every info field of every spec (list ops of references and payloads,
sublayers, asset values, time samples, nested dictionaries such as assetInfo, customData or clips), so a
field added by a future USD is covered as long as it holds one of those value types.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_FORMAT_ARGS = ":SDF_FORMAT_ARGS:"
_LISTOP_FIELDS = ("explicitItems", "addedItems", "prependedItems", "appendedItems", "deletedItems", "orderedItems")

Mapper = Callable[[str], str]


def anchor_dir(layer: Any) -> str:
    """The directory USD anchors `layer`'s relative asset paths at."""
    try:
        if layer is not None and not layer.anonymous:
            real = layer.realPath or layer.identifier
            if real and os.path.isabs(real):
                return os.path.dirname(real)
    except Exception:  # noqa: S110 - an expired layer anchors like an anonymous one
        pass
    return os.getcwd()


def is_relative(path: str) -> bool:
    """True for asset paths whose meaning depends on the anchor (not '', anon:, URLs or absolute paths)."""
    return bool(path) and not path.startswith("anon:") and not _SCHEME_RE.match(path) and not os.path.isabs(path)


def anchor(path: str, directory: str) -> str:
    """`path` made absolute at `directory`, keeping a file-format-argument suffix."""
    base, sep, args = path.partition(_FORMAT_ARGS)
    return os.path.normpath(os.path.join(directory, base)) + sep + args


# --- the generic walk over asset-bearing values ------------------------------------------------

def _map_arc(arc: Any, fn: Mapper) -> Any:
    from pxr import Sdf

    new = fn(arc.assetPath) if arc.assetPath else arc.assetPath
    if new == arc.assetPath:
        return arc
    if isinstance(arc, Sdf.Reference):
        return Sdf.Reference(new, arc.primPath, arc.layerOffset, arc.customData)
    return Sdf.Payload(new, arc.primPath, arc.layerOffset)


def _map_listop(op: Any, fn: Mapper) -> Any:
    cls = type(op)
    if op.isExplicit:
        return cls.CreateExplicit([_map_arc(a, fn) for a in op.explicitItems])
    new = cls()
    for field in _LISTOP_FIELDS[1:]:
        items = getattr(op, field)
        if items:
            setattr(new, field, [_map_arc(a, fn) for a in items])
    return new


def map_value(value: Any, fn: Mapper) -> Any:
    """`value` with `fn` applied to every asset path in it (the same object when nothing changed)."""
    from pxr import Sdf

    t = type(value)
    if t is Sdf.AssetPath:
        new = fn(value.path) if value.path else value.path
        return value if new == value.path else Sdf.AssetPath(new)
    if t is Sdf.AssetPathArray:
        items = [map_value(v, fn) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else Sdf.AssetPathArray(items)
    if t in (Sdf.Reference, Sdf.Payload):
        return _map_arc(value, fn)
    if t in (Sdf.ReferenceListOp, Sdf.PayloadListOp):
        new_op = _map_listop(value, fn)
        return value if new_op == value else new_op
    if t is dict:
        mapped = {k: map_value(v, fn) for k, v in value.items()}
        return value if all(mapped[k] is value[k] for k in value) else mapped
    if t is list or t is tuple:
        items = [map_value(v, fn) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else t(items)
    return value


def _spec_paths(layer: Any, root: Any) -> Iterator[Any]:
    from pxr import Sdf

    paths: list[Any] = []
    layer.Traverse(Sdf.Path(root), paths.append)
    yield from paths


def walk(layer: Any, root: Any, fn: Mapper, write: bool) -> None:
    """Apply `fn` to every asset path held by the specs under `root` (and the layer's own fields when
    `root` is the pseudo-root); write the results back when `write`."""
    from pxr import Sdf

    for path in _spec_paths(layer, root):
        spec = layer.GetObjectAtPath(path)
        if spec is None:
            continue
        for key in spec.ListInfoKeys():
            if key == "subLayerOffsets":
                continue
            if key == "subLayers":
                _walk_sublayers(layer, fn, write)
                continue
            if key == "timeSamples":
                for t in layer.ListTimeSamplesForPath(path):
                    old = layer.QueryTimeSample(path, t)
                    new = map_value(old, fn)
                    if write and new is not old:
                        layer.SetTimeSample(path, t, new)
                continue
            old = spec.GetInfo(key)
            new = map_value(old, fn)
            if write and new is not old:
                if key == "default" and isinstance(spec, Sdf.AttributeSpec):
                    spec.default = new
                else:
                    spec.SetInfo(key, new)


def _walk_sublayers(layer: Any, fn: Mapper, write: bool) -> None:
    paths = list(layer.subLayerPaths)
    new = [fn(p) if p else p for p in paths]
    if write and new != paths:
        offsets = list(layer.subLayerOffsets)
        layer.subLayerPaths = new
        for i, off in enumerate(offsets):  # pxr's Python API has no SetSubLayerOffset; the proxy takes items
            layer.subLayerOffsets[i] = off


# --- the one entry point for spec moves ----------------------------------------------------------

def anchored_move(src: Any, src_root: Any, dst: Any, dst_root: Any, check: Callable[[str, str], None],
                  move: Callable[[], Any]) -> Any:
    """Run `move` (which copies the specs under `src_root` of `src` to `dst_root` of `dst`) so that
    every relative asset path it carries resolves exactly where it resolved in `src`.

    `check(path, absolute)` raises if a relative `path`, anchored at `src` as `absolute`, is not allowed;
    it runs for every relative path before anything moves, so a refused move changes nothing. Between
    layers with one anchor nothing is rewritten: the move cannot change what a path means.
    """
    src_dir = anchor_dir(src)
    if src is dst or src_dir == anchor_dir(dst):
        return move()
    anchored: dict[str, str] = {}

    def checked(path: str) -> str:
        if not is_relative(path):
            return path
        absolute = anchored.get(path)
        if absolute is None:
            absolute = anchor(path, src_dir)
            check(path, absolute)
            anchored[path] = absolute
        return absolute

    walk(src, src_root, checked, write=False)
    out = move()
    walk(dst, dst_root, checked, write=True)
    return out
