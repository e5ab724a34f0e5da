# expect: accept
# what: partition a mesh's faces into a materialBind family of GeomSubsets and validate the family.
from pxr import Sdf, UsdGeom, UsdShade

mesh = UsdGeom.Mesh.Define(stage, "/World/Cabinet")
pts = [(x, y, 0) for y in range(3) for x in range(4)]
counts, idx = [], []
for y in range(2):
    for x in range(3):
        a = y * 4 + x
        counts.append(4)
        idx += [a, a + 1, a + 5, a + 4]
mesh.CreatePointsAttr(pts)
mesh.CreateFaceVertexCountsAttr(counts)
mesh.CreateFaceVertexIndicesAttr(idx)

parts = {"Doors": [0, 2, 3, 5], "Handles": [1], "Frame": [4]}
binding = UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim())
for name, faces in parts.items():
    subset = binding.CreateMaterialBindSubset(name, faces, UsdGeom.Tokens.face)
    mat = UsdShade.Material.Define(stage, f"/World/Looks/{name}")
    UsdShade.MaterialBindingAPI.Apply(subset.GetPrim()).Bind(mat)
binding.SetMaterialBindSubsetsFamilyType(UsdGeom.Tokens.partition)

subsets = binding.GetMaterialBindSubsets()
valid, reason = UsdGeom.Subset.ValidateFamily(mesh, UsdGeom.Tokens.face, "materialBind")
print("subsets:", [s.GetPrim().GetName() for s in subsets])
print("family valid:", valid, reason or "")
print("unassigned faces:", list(UsdGeom.Subset.GetUnassignedIndices(subsets, len(counts))))
