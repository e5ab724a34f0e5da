# expect: accept
# what: a UsdPreviewSurface material bound to a cube.
from pxr import UsdGeom, UsdShade, Sdf, Gf

cube = UsdGeom.Cube.Define(stage, "/World/RedCube")
material = UsdShade.Material.Define(stage, "/World/Looks/Red")
shader = UsdShade.Shader.Define(stage, "/World/Looks/Red/PBR")
shader.CreateIdAttr("UsdPreviewSurface")
shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.8, 0.1, 0.1))
shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.4)
shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.0)
material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
UsdShade.MaterialBindingAPI.Apply(cube.GetPrim()).Bind(material)
print("bound", material.GetPath(), "to", cube.GetPath())
