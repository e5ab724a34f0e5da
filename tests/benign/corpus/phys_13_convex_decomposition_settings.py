# expect: accept
# what: choose a collision approximation per mesh from its point count, like a TD's asset-prep step.
from pxr import Gf, UsdGeom, UsdPhysics, Vt


def make_grid_mesh(path: str, n: int) -> UsdGeom.Mesh:
    mesh = UsdGeom.Mesh.Define(stage, path)
    pts = [Gf.Vec3f(x, 0, z) for z in range(n + 1) for x in range(n + 1)]
    counts, indices = [], []
    for z in range(n):
        for x in range(n):
            a = z * (n + 1) + x
            counts.append(4)
            indices.extend([a, a + 1, a + n + 2, a + n + 1])
    mesh.CreatePointsAttr(Vt.Vec3fArray(pts))
    mesh.CreateFaceVertexCountsAttr(counts)
    mesh.CreateFaceVertexIndicesAttr(indices)
    return mesh


def pick_approximation(point_count: int) -> str:
    if point_count <= 8:
        return "convexHull"
    if point_count <= 100:
        return "convexDecomposition"
    return "meshSimplification"


for name, n in (("Pebble", 1), ("Rock", 6), ("Cliff", 20)):
    mesh = make_grid_mesh(f"/World/Terrain/{name}", n)
    UsdPhysics.CollisionAPI.Apply(mesh.GetPrim())
    approx = UsdPhysics.MeshCollisionAPI.Apply(mesh.GetPrim())
    approx.CreateApproximationAttr(pick_approximation(len(mesh.GetPointsAttr().Get())))

for prim in stage.GetPrimAtPath("/World/Terrain").GetChildren():
    points = UsdGeom.Mesh(prim).GetPointsAttr().Get()
    print(prim.GetName(), len(points), UsdPhysics.MeshCollisionAPI(prim).GetApproximationAttr().Get())
