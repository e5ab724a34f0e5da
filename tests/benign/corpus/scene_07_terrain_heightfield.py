# expect: accept
# what: a terrain mesh from a sum-of-sines heightfield with normals, extent and a displayColor by height.
import math

from pxr import Gf, UsdGeom, Vt

RES, SIZE = 24, 40.0


def height(x: float, z: float) -> float:
    return 2.0 * math.sin(x * 0.3) * math.cos(z * 0.25) + 0.5 * math.sin(x * 1.1 + z * 0.7)


points, colors = [], []
for j in range(RES + 1):
    for i in range(RES + 1):
        x = (i / RES - 0.5) * SIZE
        z = (j / RES - 0.5) * SIZE
        y = height(x, z)
        points.append(Gf.Vec3f(x, y, z))
        t = (y + 2.5) / 5.0
        colors.append(Gf.Vec3f(0.2 + 0.5 * t, 0.45 + 0.3 * t, 0.2))

counts, indices = [], []
for j in range(RES):
    for i in range(RES):
        a = j * (RES + 1) + i
        counts.append(4)
        indices += [a, a + RES + 1, a + RES + 2, a + 1]

terrain = UsdGeom.Mesh.Define(stage, "/World/Terrain")
terrain.CreatePointsAttr(Vt.Vec3fArray(points))
terrain.CreateFaceVertexCountsAttr(Vt.IntArray(counts))
terrain.CreateFaceVertexIndicesAttr(Vt.IntArray(indices))
terrain.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
color = terrain.CreateDisplayColorPrimvar(UsdGeom.Tokens.vertex)
color.Set(Vt.Vec3fArray(colors))
terrain.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(terrain.GetPointsAttr().Get()))

ext = terrain.GetExtentAttr().Get()
print("vertices:", len(points), "faces:", len(counts))
print("height range: %.3f .. %.3f" % (ext[0][1], ext[1][1]))
