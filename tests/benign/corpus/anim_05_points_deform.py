# expect: accept
# what: deforming mesh points over time (wave).
import math
from pxr import UsdGeom, Vt, Gf

mesh = UsdGeom.Mesh.Define(stage, "/World/Wave")
n = 8
mesh.CreateFaceVertexCountsAttr([4] * (n - 1))
mesh.CreateFaceVertexIndicesAttr([i for k in range(n - 1) for i in (k, k + 1, n + k + 1, n + k)])
pts_attr = mesh.CreatePointsAttr()
for frame in range(0, 12, 3):
    row0 = [Gf.Vec3f(i, math.sin(i + frame * 0.5), 0) for i in range(n)]
    row1 = [Gf.Vec3f(i, math.sin(i + frame * 0.5), 1) for i in range(n)]
    pts_attr.Set(Vt.Vec3fArray(row0 + row1), frame)
print(pts_attr.GetTimeSamples())
