# expect: accept
# what: compute per-face normals with Gf, flag faces pointing down, and write a per-face displayColor.
from pxr import Gf, UsdGeom

mesh = UsdGeom.Mesh.Define(stage, "/World/Roof")
mesh.CreatePointsAttr([(0, 0, 0), (2, 0, 0), (2, 0, 2), (0, 0, 2), (1, 1, 1)])
mesh.CreateFaceVertexCountsAttr([3, 3, 3, 3, 4])
mesh.CreateFaceVertexIndicesAttr([0, 4, 1, 1, 4, 2, 2, 4, 3, 3, 4, 0, 0, 1, 2, 3])

points = mesh.GetPointsAttr().Get()
counts = mesh.GetFaceVertexCountsAttr().Get()
indices = mesh.GetFaceVertexIndicesAttr().Get()
normals, start = [], 0
for count in counts:
    face = [points[i] for i in indices[start:start + count]]
    n = Gf.Cross(face[1] - face[0], face[2] - face[0])
    normals.append(n.GetNormalized())
    start += count

down = [i for i, n in enumerate(normals) if n[1] < -0.5]
colors = [Gf.Vec3f(1, 0, 0) if i in down else Gf.Vec3f(0.7, 0.7, 0.7) for i in range(len(normals))]
mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.uniform).Set(colors)
for i, n in enumerate(normals):
    print(f"face {i}: ({n[0]:+.3f}, {n[1]:+.3f}, {n[2]:+.3f})")
print("downward faces:", down)
