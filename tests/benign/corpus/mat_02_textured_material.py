# expect: accept
# what: a textured material: UsdUVTexture + PrimvarReader_float2 wired to the surface.
from pxr import UsdShade, Sdf

mat = UsdShade.Material.Define(stage, "/World/Looks/Brick")
pbr = UsdShade.Shader.Define(stage, "/World/Looks/Brick/PBR")
pbr.CreateIdAttr("UsdPreviewSurface")
reader = UsdShade.Shader.Define(stage, "/World/Looks/Brick/stReader")
reader.CreateIdAttr("UsdPrimvarReader_float2")
reader.CreateInput("varname", Sdf.ValueTypeNames.Token).Set("st")
tex = UsdShade.Shader.Define(stage, "/World/Looks/Brick/Diffuse")
tex.CreateIdAttr("UsdUVTexture")
tex.CreateInput("file", Sdf.ValueTypeNames.Asset).Set("textures/brick_albedo.png")
tex.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
tex.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
pbr.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(tex.ConnectableAPI(), "rgb")
mat.CreateSurfaceOutput().ConnectToSource(pbr.ConnectableAPI(), "surface")
print([c.GetName() for c in mat.GetPrim().GetChildren()])
