"""What the renderer hands the GPU: triangles once, drawn under many matrices.

Why its own type: ten thousand cubes are one cube and ten thousand matrices. Building every triangle of
every prim in numpy (and pushing them through the view transform and into a vertex buffer) was most of a
big scene's render time; a Batch keeps the triangles of one unit shape or one prototype once, and the
rasteriser draws it with one instanced draw call. Plain numpy, no pxr or GL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Batch:
    """Triangles drawn once under each of N matrices (GPU instancing: one draw call per batch).

    ``tris`` (T,3,3) float64 in the batch's own space; ``colors`` (T,3,3) corner colors, or (1,1,3) for
    one color; ``mats`` (N,4,4) finite float64 row-vector matrices to world space; ``tints`` (N,3) float32
    per-instance colors that the corner colors are multiplied by."""

    tris: np.ndarray
    colors: np.ndarray
    mats: np.ndarray
    tints: np.ndarray

    @property
    def triangles(self) -> int:
        return int(self.tris.shape[0]) * int(self.mats.shape[0])
