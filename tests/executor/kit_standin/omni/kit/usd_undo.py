"""Stand-in for omni.kit.usd_undo 0.1.8 `UsdLayerUndo`, with the published behaviour's quirks (our code).

The binding no longer uses this module (it undoes with `kitgate.sandbox.delta.DeltaUndo`); the
stand-in stays so a test can show WHY: the published `UsdLayerUndo.reserve` (omni.kit.usd_undo
`layer_undo.py`, docs https://docs.omniverse.nvidia.com/kit/docs/omni.kit.usd_undo/0.1.8/Overview.html)
- skips a path already covered by a reserved ancestor;
- when reserving a path that is an ancestor of reserved paths, removes those from the reservation
  dict *while iterating it*, so reserving a parent after its child raises
  `RuntimeError: dictionary changed size during iteration`;
- for an existing spec, creates the spec chain in its private layer by recursing to the parent until
  it finds an existing one; for "/" the parent is the empty path, which never exists, so the recursion
  never ends (`RecursionError`);
- `undo()` removes specs that were new (one BatchNamespaceEdit) and CopySpecs reserved ones back inside
  one Sdf.ChangeBlock; it does not restore child order or layer metadata.
"""

from __future__ import annotations

from typing import Any


class UsdLayerUndo:
    class Key:
        def __init__(self, path: Any, info: Any) -> None:
            self.path = path
            self.info = info

    def __init__(self, layer: Any) -> None:
        self._layer = layer
        self.reset()

    def reset(self) -> None:
        from pxr import Sdf

        self._spare = Sdf.Layer.CreateAnonymous()
        self._reserved: dict[UsdLayerUndo.Key, bool] = {}

    def _make_chain(self, path: Any) -> Any:
        from pxr import Sdf

        if self._spare.GetObjectAtPath(path.GetParentPath()) is None:
            self._make_chain(path.GetParentPath())  # "/" -> "" -> "" ...: never terminates
        if path.IsPrimPath():
            return Sdf.CreatePrimInLayer(self._spare, path)
        return None

    def reserve(self, path: Any, info: Any = None) -> None:
        from pxr import Sdf

        path = Sdf.Path(path)
        if any(path.HasPrefix(k.path) and k.info is None for k in self._reserved):
            return
        if info is None:
            for key in self._reserved:  # mutated inside the loop, as published
                if key.path.HasPrefix(path):
                    del self._reserved[key]
        spec = self._layer.GetObjectAtPath(path)
        is_new = spec is None or (info is not None and spec.GetInfo(info) is None)
        self._reserved[self.Key(path, info)] = is_new
        if is_new:
            return
        self._make_chain(path)
        if info is None:
            Sdf.CopySpec(self._layer, path, self._spare, path)

    def undo(self) -> None:
        from pxr import Sdf

        with Sdf.ChangeBlock():
            edit = Sdf.BatchNamespaceEdit()
            for key, is_new in self._reserved.items():
                if is_new:
                    if self._layer.GetObjectAtPath(key.path) is not None:
                        edit.Add(Sdf.NamespaceEdit.Remove(key.path))
                elif key.info is None:
                    Sdf.CopySpec(self._spare, key.path, self._layer, key.path)
            self._layer.Apply(edit)
