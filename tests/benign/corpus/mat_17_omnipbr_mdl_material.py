# expect: accept
# what: Omniverse-style MDL material (OmniPBR.mdl source asset + sub-identifier) with typical OmniPBR inputs.
from pxr import Gf, Sdf, UsdGeom, UsdShade


def create_omnipbr(stage, path: str, albedo, roughness: float, metallic: float = 0.0) -> UsdShade.Material:
    material = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, f"{path}/Shader")
    shader.SetSourceAsset(Sdf.AssetPath("OmniPBR.mdl"), "mdl")
    shader.SetSourceAssetSubIdentifier("OmniPBR", "mdl")
    shader.CreateInput("diffuse_color_constant", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*albedo))
    shader.CreateInput("reflection_roughness_constant", Sdf.ValueTypeNames.Float).Set(roughness)
    shader.CreateInput("metallic_constant", Sdf.ValueTypeNames.Float).Set(metallic)
    material.CreateSurfaceOutput("mdl").ConnectToSource(shader.ConnectableAPI(), "out")
    material.CreateVolumeOutput("mdl").ConnectToSource(shader.ConnectableAPI(), "out")
    material.CreateDisplacementOutput("mdl").ConnectToSource(shader.ConnectableAPI(), "out")
    return material


gold = create_omnipbr(stage, "/World/Looks/Gold", (1.0, 0.77, 0.34), 0.2, 1.0)
rubber = create_omnipbr(stage, "/World/Looks/Rubber", (0.05, 0.05, 0.05), 0.85)
for i, mat in enumerate((gold, rubber)):
    ball = UsdGeom.Sphere.Define(stage, f"/World/Balls/Ball{i}")
    UsdShade.MaterialBindingAPI.Apply(ball.GetPrim()).Bind(mat)

shader = UsdShade.Shader(stage.GetPrimAtPath("/World/Looks/Gold/Shader"))
print("implementation:", shader.GetImplementationSource())
print("source asset:", shader.GetSourceAsset("mdl").path, shader.GetSourceAssetSubIdentifier("mdl"))
print("outputs:", sorted(o.GetBaseName() for o in gold.GetOutputs()))
print("surface (mdl):", gold.ComputeSurfaceSource("mdl")[0].GetPath())
