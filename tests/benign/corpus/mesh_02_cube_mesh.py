# expect: accept
# what: an 8-point cube mesh built from lists.
from pxr import UsdGeom, Gf

pts = [(x, y, z) for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)]
faces = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
mesh = UsdGeom.Mesh.Define(stage, "/World/CubeMesh")
mesh.GetPointsAttr().Set([Gf.Vec3f(*p) for p in pts])
mesh.GetFaceVertexCountsAttr().Set([len(f) for f in faces])
mesh.GetFaceVertexIndicesAttr().Set([i for f in faces for i in f])
mesh.GetExtentAttr().Set([Gf.Vec3f(-0.5, -0.5, -0.5), Gf.Vec3f(0.5, 0.5, 0.5)])
print("faces:", len(faces))
