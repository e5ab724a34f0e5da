"""Stand-in for omni.kit.usd_undo.UsdLayerUndo(layer): reserve(path) before editing, undo() restores.

Semantics chosen for the stand-in: reserve() records the spec subtree at `path` (or its absence);
undo() puts every reserved path back as recorded. "/" records the layer's root metadata only."""

from typing import Any


class UsdLayerUndo:
    def __init__(self, layer: Any) -> None:
        from pxr import Sdf

        self._layer = layer
        self._backup = Sdf.Layer.CreateAnonymous(".usda")
        self._reserved: list[tuple[Any, bool]] = []
        self._meta: dict[str, Any] | None = None

    def reserve(self, path: Any, info: Any = None) -> None:
        from pxr import Sdf

        path = Sdf.Path(path)
        if any(p == path for p, _ in self._reserved):
            return
        if path == Sdf.Path.absoluteRootPath:
            root = self._layer.pseudoRoot
            self._meta = {k: root.GetInfo(k) for k in root.ListInfoKeys()}
            self._reserved.append((path, True))
            return
        present = self._layer.GetObjectAtPath(path) is not None
        if present:
            parent = path.GetParentPath()
            if parent != Sdf.Path.absoluteRootPath and self._backup.GetPrimAtPath(parent) is None:
                Sdf.CreatePrimInLayer(self._backup, parent)
            Sdf.CopySpec(self._layer, path, self._backup, path)
        self._reserved.append((path, present))

    def undo(self) -> None:
        from pxr import Sdf

        with Sdf.ChangeBlock():
            for path, present in reversed(self._reserved):
                if path == Sdf.Path.absoluteRootPath:
                    root = self._layer.pseudoRoot
                    for key in list(root.ListInfoKeys()):
                        if key not in (self._meta or {}) and key != "subLayers":
                            root.ClearInfo(key)
                    for key, value in (self._meta or {}).items():
                        if key != "subLayers":
                            root.SetInfo(key, value)
                    continue
                spec = self._layer.GetPrimAtPath(path)
                if spec is not None:
                    parent = self._layer.GetPrimAtPath(path.GetParentPath()) or self._layer.pseudoRoot
                    del parent.nameChildren[spec.name]
                if present:
                    parent = path.GetParentPath()
                    if parent != Sdf.Path.absoluteRootPath and self._layer.GetPrimAtPath(parent) is None:
                        Sdf.CreatePrimInLayer(self._layer, parent)
                    Sdf.CopySpec(self._backup, path, self._layer, path)

    def reset(self) -> None:
        self._reserved.clear()
        self._meta = None
