# expect: accept
# what: author a binding, then query it with ComputeBoundMaterial.
from pxr import UsdGeom, UsdShade

ball = UsdGeom.Sphere.Define(stage, "/World/Ball")
mat = UsdShade.Material.Define(stage, "/World/Looks/Blue")
UsdShade.MaterialBindingAPI.Apply(ball.GetPrim()).Bind(mat, UsdShade.Tokens.strongerThanDescendants)
bound, rel = UsdShade.MaterialBindingAPI(ball.GetPrim()).ComputeBoundMaterial()
print("bound material:", bound.GetPath())
