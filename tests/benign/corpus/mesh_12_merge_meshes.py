# expect: accept
# what: merge several meshes into one (baking their transforms into points), then deactivate the sources.
from pxr import Gf, Usd, UsdGeom, Vt


def quad(path, offset):
    m = UsdGeom.Mesh.Define(stage, path)
    m.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)])
    m.CreateFaceVertexCountsAttr([4])
    m.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    m.AddTranslateOp().Set(Gf.Vec3d(*offset))
    return m


sources = [quad(f"/World/Tiles/Tile{i}", (i * 1.1, 0, (i % 2) * 1.1)) for i in range(6)]

merged_points, merged_counts, merged_indices = [], [], []
for mesh in sources:
    xform = mesh.ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    base = len(merged_points)
    merged_points += [Gf.Vec3f(xform.Transform(Gf.Vec3d(p))) for p in mesh.GetPointsAttr().Get()]
    merged_counts += list(mesh.GetFaceVertexCountsAttr().Get())
    merged_indices += [base + i for i in mesh.GetFaceVertexIndicesAttr().Get()]

merged = UsdGeom.Mesh.Define(stage, "/World/TilesMerged")
merged.CreatePointsAttr(Vt.Vec3fArray(merged_points))
merged.CreateFaceVertexCountsAttr(merged_counts)
merged.CreateFaceVertexIndicesAttr(merged_indices)
stage.GetPrimAtPath("/World/Tiles").SetActive(False)

print("merged faces:", len(merged_counts), "points:", len(merged_points))
print("last point:", merged_points[-1])
print("sources active:", stage.GetPrimAtPath("/World/Tiles").IsActive())
