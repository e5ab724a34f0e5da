# expect: accept
# what: find all meshes with IsA and report point counts.
from pxr import UsdGeom

m = UsdGeom.Mesh.Define(stage, "/World/Tri")
m.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (0, 1, 0)])
m.CreateFaceVertexCountsAttr([3])
m.CreateFaceVertexIndicesAttr([0, 1, 2])
report = []
for prim in stage.Traverse():
    if prim.IsA(UsdGeom.Mesh):
        pts = UsdGeom.Mesh(prim).GetPointsAttr().Get() or []
        report.append((str(prim.GetPath()), len(pts)))
print(report)
