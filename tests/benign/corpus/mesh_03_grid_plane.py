# expect: accept
# what: a subdivided ground plane generated with helper functions.
from pxr import UsdGeom, Gf, Vt


def grid_points(n: int, size: float) -> list:
    step = size / n
    return [Gf.Vec3f(-size / 2 + i * step, 0.0, -size / 2 + j * step) for j in range(n + 1) for i in range(n + 1)]


def grid_faces(n: int) -> list:
    idx = []
    for j in range(n):
        for i in range(n):
            a = j * (n + 1) + i
            idx.extend([a, a + 1, a + n + 2, a + n + 1])
    return idx


n = 16
mesh = UsdGeom.Mesh.Define(stage, "/World/Plane")
mesh.CreatePointsAttr(Vt.Vec3fArray(grid_points(n, 10.0)))
mesh.CreateFaceVertexCountsAttr(Vt.IntArray([4] * (n * n)))
mesh.CreateFaceVertexIndicesAttr(Vt.IntArray(grid_faces(n)))
mesh.CreateExtentAttr([Gf.Vec3f(-5, 0, -5), Gf.Vec3f(5, 0, 5)])
print(len(mesh.GetPointsAttr().Get()), "points")
