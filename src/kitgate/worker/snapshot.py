"""A frozen copy of a stage's edit-target layer, for running an isolated job off Kit's main thread.

Why: in Kit the main thread must not wait for a child process, and no other thread may touch the live
stage. The isolated executor only needs the edit-target layer's identifier, its text and
a way to resolve asset paths (docs/architecture.md, "Executor.execute in isolated mode"). So the main
thread exports the layer once into a `FrozenStage`, a helper thread hands that to the sandbox, and the
delta is applied to the live stage back on the main thread.
"""

from __future__ import annotations

import os
from typing import Any


class FrozenLayer:
    """Immutable data taken from a live Sdf.Layer (read only on the thread that created it)."""

    def __init__(self, layer: Any) -> None:
        self.identifier: str = layer.identifier
        self.anonymous: bool = bool(layer.anonymous)
        self.realPath: str = layer.realPath or ""
        self._text: str = layer.ExportToString()

    def ExportToString(self) -> str:  # noqa: N802 - mirrors Sdf.Layer
        return self._text

    def ComputeAbsolutePath(self, asset: str) -> str:  # noqa: N802 - mirrors Sdf.Layer
        """Filesystem paths only; anything else is returned as is (the sandbox then refuses it)."""
        if not asset or os.path.isabs(asset) or self.anonymous or not self.realPath:
            return asset
        return os.path.normpath(os.path.join(os.path.dirname(self.realPath), asset))


class FrozenStage:
    """Quacks like the part of Usd.Stage the isolated executor reads: GetEditTarget().GetLayer()."""

    def __init__(self, stage: Any) -> None:
        self.layer = FrozenLayer(stage.GetEditTarget().GetLayer())

    def GetEditTarget(self) -> FrozenStage:  # noqa: N802
        return self

    def GetLayer(self) -> FrozenLayer:  # noqa: N802
        return self.layer


def snapshot_stage(stage: Any) -> FrozenStage:
    """Main thread only: one ExportToString of the edit-target layer."""
    return FrozenStage(stage)
