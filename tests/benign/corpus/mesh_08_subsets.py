# expect: accept
# what: GeomSubsets on a mesh with per-face material bindings.
from pxr import UsdGeom, UsdShade, Vt

mesh = UsdGeom.Mesh.Define(stage, "/World/TwoTone")
mesh.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (2, 0, 0), (0, 1, 0), (1, 1, 0), (2, 1, 0)])
mesh.CreateFaceVertexCountsAttr([4, 4])
mesh.CreateFaceVertexIndicesAttr([0, 1, 4, 3, 1, 2, 5, 4])
left = UsdGeom.Subset.CreateGeomSubset(mesh, "left", UsdGeom.Tokens.face, Vt.IntArray([0]),
                                       UsdShade.Tokens.materialBind)
right = UsdGeom.Subset.CreateGeomSubset(mesh, "right", UsdGeom.Tokens.face, Vt.IntArray([1]),
                                        UsdShade.Tokens.materialBind)
red = UsdShade.Material.Define(stage, "/World/Looks/Red2")
blue = UsdShade.Material.Define(stage, "/World/Looks/Blue2")
UsdShade.MaterialBindingAPI.Apply(left.GetPrim()).Bind(red)
UsdShade.MaterialBindingAPI.Apply(right.GetPrim()).Bind(blue)
print([s.GetPrim().GetName() for s in UsdGeom.Subset.GetAllGeomSubsets(mesh)])
