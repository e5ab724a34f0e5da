# expect: accept
# what: a shadingVariant that swaps the material binding, with materials outside the variant.
from pxr import Gf, Sdf, UsdGeom, UsdShade

looks = {}
for name, color in {"Red": (0.8, 0.1, 0.1), "Green": (0.1, 0.7, 0.2), "Blue": (0.1, 0.2, 0.9)}.items():
    mat = UsdShade.Material.Define(stage, f"/World/Looks/{name}")
    sh = UsdShade.Shader.Define(stage, f"/World/Looks/{name}/Surface")
    sh.CreateIdAttr("UsdPreviewSurface")
    sh.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*color))
    mat.CreateSurfaceOutput().ConnectToSource(sh.ConnectableAPI(), "surface")
    looks[name] = mat

toy = UsdGeom.Sphere.Define(stage, "/World/Toy")
shading = toy.GetPrim().GetVariantSets().AddVariantSet("shadingVariant")
for name, mat in looks.items():
    shading.AddVariant(name)
    shading.SetVariantSelection(name)
    with shading.GetVariantEditContext():
        UsdShade.MaterialBindingAPI.Apply(toy.GetPrim()).Bind(mat)

results = {}
for name in looks:
    shading.SetVariantSelection(name)
    bound, _ = UsdShade.MaterialBindingAPI(toy.GetPrim()).ComputeBoundMaterial()
    results[name] = bound.GetPath().name
shading.SetVariantSelection("Green")
print(results)
print("final:", UsdShade.MaterialBindingAPI(toy.GetPrim()).ComputeBoundMaterial()[0].GetPath())
