# expect: accept
# what: full and preview purpose bindings plus a strength override on a parent, then compute what each child sees.
from pxr import UsdGeom, UsdShade


def make_material(stage, path, color):
    from pxr import Gf, Sdf
    mat = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, path + "/Shader")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*color))
    mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return mat


hero = make_material(stage, "/World/Looks/HeroFull", (0.9, 0.7, 0.1))
proxy = make_material(stage, "/World/Looks/HeroPreview", (0.5, 0.5, 0.5))
override = make_material(stage, "/World/Looks/Override", (1.0, 0.0, 1.0))

group = UsdGeom.Xform.Define(stage, "/World/Hero")
parts = [UsdGeom.Sphere.Define(stage, f"/World/Hero/Part{i}") for i in range(3)]
for part in parts:
    api = UsdShade.MaterialBindingAPI.Apply(part.GetPrim())
    api.Bind(hero, materialPurpose=UsdShade.Tokens.full)
    api.Bind(proxy, materialPurpose=UsdShade.Tokens.preview)

group_api = UsdShade.MaterialBindingAPI.Apply(group.GetPrim())
group_api.Bind(override, UsdShade.Tokens.strongerThanDescendants, UsdShade.Tokens.preview)

for part in parts:
    api = UsdShade.MaterialBindingAPI(part.GetPrim())
    full_mat, _ = api.ComputeBoundMaterial(UsdShade.Tokens.full)
    preview_mat, _ = api.ComputeBoundMaterial(UsdShade.Tokens.preview)
    print(part.GetPath().name, full_mat.GetPath().name, preview_mat.GetPath().name)
