# expect: accept
# what: a single quad mesh with points, counts, indices, normals and extent.
from pxr import UsdGeom, Vt, Gf

mesh = UsdGeom.Mesh.Define(stage, "/World/Quad")
points = [Gf.Vec3f(-1, 0, -1), Gf.Vec3f(1, 0, -1), Gf.Vec3f(1, 0, 1), Gf.Vec3f(-1, 0, 1)]
mesh.CreatePointsAttr(Vt.Vec3fArray(points))
mesh.CreateFaceVertexCountsAttr([4])
mesh.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
mesh.CreateNormalsAttr(Vt.Vec3fArray([Gf.Vec3f(0, 1, 0)] * 4))
mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
mesh.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(mesh.GetPointsAttr().Get()))
mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
print(mesh.GetExtentAttr().Get())
