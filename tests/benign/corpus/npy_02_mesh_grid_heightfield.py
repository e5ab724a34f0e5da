# expect: accept
# what: a TD builds a heightfield mesh from a numpy grid (meshgrid, sin/cos, index math) and reports bounds.
from __future__ import annotations

import numpy as np
from pxr import UsdGeom, Vt


def grid_mesh(path: str, n: int = 12, size: float = 10.0, amp: float = 0.5) -> UsdGeom.Mesh:
    xs = np.linspace(-size / 2, size / 2, n)
    gx, gz = np.meshgrid(xs, xs)
    gy = amp * np.sin(gx) * np.cos(gz)
    points = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1).astype(np.float32)
    idx = np.arange(n * n).reshape(n, n)
    quads = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], axis=-1).reshape(-1)
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(quads.astype(np.int32)))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full((n - 1) ** 2, 4, dtype=np.int32)))
    lo, hi = points.min(axis=0), points.max(axis=0)
    mesh.CreateExtentAttr(Vt.Vec3fArray.FromNumpy(np.stack([lo, hi])))
    return mesh


if __name__ == "__main__":
    UsdGeom.Xform.Define(stage, "/World")
    mesh = grid_mesh("/World/Terrain")
    pts = np.array(mesh.GetPointsAttr().Get())
    print("points", pts.shape, "faces", len(mesh.GetFaceVertexCountsAttr().Get()))
    print("height range", np.round(pts[:, 1].min(), 4), np.round(pts[:, 1].max(), 4))
    print("extent", [tuple(round(float(c), 3) for c in e) for e in mesh.GetExtentAttr().Get()])
