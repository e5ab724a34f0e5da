# expect: accept
# what: constant and indexed primvars.
from pxr import UsdGeom, Sdf, Vt

mesh = UsdGeom.Mesh.Define(stage, "/World/Tagged")
api = UsdGeom.PrimvarsAPI(mesh)
mat_id = api.CreatePrimvar("materialId", Sdf.ValueTypeNames.Int, UsdGeom.Tokens.constant)
mat_id.Set(7)
names = api.CreatePrimvar("partName", Sdf.ValueTypeNames.StringArray, UsdGeom.Tokens.uniform)
names.Set(Vt.StringArray(["hull", "sail"]))
names.SetIndices(Vt.IntArray([0, 1, 1, 0]))
print([pv.GetPrimvarName() for pv in api.GetPrimvars()], names.ComputeFlattened())
