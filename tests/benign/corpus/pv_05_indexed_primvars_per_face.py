# expect: accept
# what: indexed per-face primvars (material IDs and colors) on a grid mesh, flattened back for a report.
from pxr import Gf, Sdf, UsdGeom, Vt

N = 4
mesh = UsdGeom.Mesh.Define(stage, "/World/Checker")
mesh.CreatePointsAttr([Gf.Vec3f(x, 0, z) for z in range(N + 1) for x in range(N + 1)])
mesh.CreateFaceVertexCountsAttr([4] * N * N)
mesh.CreateFaceVertexIndicesAttr([i for z in range(N) for x in range(N)
                                  for i in (z * (N + 1) + x, z * (N + 1) + x + 1, (z + 1) * (N + 1) + x + 1, (z + 1) * (N + 1) + x)])

api = UsdGeom.PrimvarsAPI(mesh)
colors = api.CreatePrimvar("displayColor", Sdf.ValueTypeNames.Color3fArray, UsdGeom.Tokens.uniform)
colors.Set(Vt.Vec3fArray([Gf.Vec3f(0.1, 0.1, 0.1), Gf.Vec3f(0.9, 0.9, 0.9)]))
colors.SetIndices(Vt.IntArray([(x + z) % 2 for z in range(N) for x in range(N)]))
ids = api.CreatePrimvar("materialId", Sdf.ValueTypeNames.IntArray, UsdGeom.Tokens.uniform)
ids.Set(Vt.IntArray([z for z in range(N) for _ in range(N)]))

flat = colors.ComputeFlattened()
print("indexed:", colors.IsIndexed(), "values:", len(colors.Get()), "flattened:", len(flat))
print("row 0:", ["W" if c[0] > 0.5 else "B" for c in flat[:N]])
print("primvars:", sorted(p.GetPrimvarName() for p in api.GetAuthoredPrimvars()))
print("element size:", ids.GetElementSize(), "interp:", ids.GetInterpolation())
