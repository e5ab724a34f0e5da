# expect: accept
# what: points on a circle with math (a ring mesh) and display colour.
import math
from pxr import UsdGeom, Gf

segments = 24
outer, inner = 2.0, 1.5
pts = []
for i in range(segments):
    a = 2 * math.pi * i / segments
    pts.append(Gf.Vec3f(outer * math.cos(a), 0, outer * math.sin(a)))
    pts.append(Gf.Vec3f(inner * math.cos(a), 0, inner * math.sin(a)))
idx = []
for i in range(segments):
    j = (i + 1) % segments
    idx += [2 * i, 2 * j, 2 * j + 1, 2 * i + 1]
ring = UsdGeom.Mesh.Define(stage, "/World/Ring")
ring.CreatePointsAttr(pts)
ring.CreateFaceVertexCountsAttr([4] * segments)
ring.CreateFaceVertexIndicesAttr(idx)
ring.CreateDisplayColorAttr([Gf.Vec3f(0.9, 0.7, 0.1)])
print("ring with", segments, "quads")
