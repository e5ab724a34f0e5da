# expect: accept
# what: a material with public interface inputs driving its shader (artist-facing knobs), overridden per instance.
from pxr import Gf, Sdf, UsdGeom, UsdShade

base = UsdShade.Material.Define(stage, "/World/Looks/CarPaint")
tint = base.CreateInput("tint", Sdf.ValueTypeNames.Color3f)
tint.Set(Gf.Vec3f(0.1, 0.2, 0.8))
gloss = base.CreateInput("gloss", Sdf.ValueTypeNames.Float)
gloss.Set(0.9)

shader = UsdShade.Shader.Define(stage, "/World/Looks/CarPaint/Surface")
shader.CreateIdAttr("UsdPreviewSurface")
shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(tint)
shader.CreateInput("clearcoat", Sdf.ValueTypeNames.Float).ConnectToSource(gloss)
base.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")

variants = {"Red": (0.8, 0.05, 0.05), "Black": (0.02, 0.02, 0.02)}
for name, color in variants.items():
    child = UsdShade.Material.Define(stage, f"/World/Looks/CarPaint_{name}")
    child.SetBaseMaterial(base)
    child.CreateInput("tint", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*color))
    body = UsdGeom.Cube.Define(stage, f"/World/Cars/{name}/Body")
    UsdShade.MaterialBindingAPI.Apply(body.GetPrim()).Bind(child)

for name in variants:
    mat = UsdShade.Material(stage.GetPrimAtPath(f"/World/Looks/CarPaint_{name}"))
    print(name, "base:", mat.GetBaseMaterialPath(), "tint:", mat.GetInput("tint").Get())
