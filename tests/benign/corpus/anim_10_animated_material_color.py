# expect: accept
# what: animate a material input (emissive color cycling through hues) with colorsys and time samples.
import colorsys

from pxr import Gf, Sdf, UsdGeom, UsdShade

mat = UsdShade.Material.Define(stage, "/World/Looks/Neon")
shader = UsdShade.Shader.Define(stage, "/World/Looks/Neon/Surface")
shader.CreateIdAttr("UsdPreviewSurface")
emissive = shader.CreateInput("emissiveColor", Sdf.ValueTypeNames.Color3f)
mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")

for frame in range(0, 97, 8):
    r, g, b = colorsys.hsv_to_rgb(frame / 96.0, 1.0, 1.0)
    emissive.Set(Gf.Vec3f(r, g, b), frame)

sign = UsdGeom.Cube.Define(stage, "/World/Sign")
UsdShade.MaterialBindingAPI.Apply(sign.GetPrim()).Bind(mat)
attr = emissive.GetAttr()
print("keys:", [int(t) for t in attr.GetTimeSamples()])
c = attr.Get(44)
print("frame 44 (interpolated): (%.3f, %.3f, %.3f)" % (c[0], c[1], c[2]))
