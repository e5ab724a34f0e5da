# expect: accept
# what: bind one material to every cube under a scope.
from pxr import UsdGeom, UsdShade, Sdf

mat = UsdShade.Material.Define(stage, "/World/Looks/Grey")
sh = UsdShade.Shader.Define(stage, "/World/Looks/Grey/Shader")
sh.CreateIdAttr("UsdPreviewSurface")
sh.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set((0.5, 0.5, 0.5))
mat.CreateSurfaceOutput().ConnectToSource(sh.ConnectableAPI(), "surface")
for i in range(6):
    UsdGeom.Cube.Define(stage, f"/World/Crates/Crate{i}")
count = 0
for prim in stage.GetPrimAtPath("/World/Crates").GetChildren():
    if prim.IsA(UsdGeom.Cube):
        UsdShade.MaterialBindingAPI.Apply(prim).Bind(mat)
        count += 1
print("bound", count)
