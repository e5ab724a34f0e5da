# expect: accept
# what: read a mesh's points back, transform them in Python, write them to a new mesh.
from pxr import UsdGeom, Gf, Vt

src = UsdGeom.Mesh.Define(stage, "/World/Source")
src.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)])
src.CreateFaceVertexCountsAttr([4])
src.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
pts = src.GetPointsAttr().Get()
print(len(pts), pts[2], pts[2][1], list(pts)[:2])
m = Gf.Matrix4d().SetScale(Gf.Vec3d(2, 2, 2))
moved = Vt.Vec3fArray([Gf.Vec3f(m.Transform(Gf.Vec3d(p))) for p in pts])
dst = UsdGeom.Mesh.Define(stage, "/World/Scaled")
dst.CreatePointsAttr(moved)
dst.CreateFaceVertexCountsAttr(src.GetFaceVertexCountsAttr().Get())
dst.CreateFaceVertexIndicesAttr(src.GetFaceVertexIndicesAttr().Get())
dst.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(moved))
print(dst.GetExtentAttr().Get())
