# expect: accept
# what: NVIDIA-snippet style: create a UsdPreviewSurface material and bind it, then verify the binding.
from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade


def create_material(stage: Usd.Stage, path: str, diffuse: Gf.Vec3f) -> UsdShade.Material:
    material: UsdShade.Material = UsdShade.Material.Define(stage, path)
    pbr_shader: UsdShade.Shader = UsdShade.Shader.Define(stage, f"{path}/PBRShader")
    pbr_shader.CreateIdAttr("UsdPreviewSurface")
    pbr_shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(diffuse)
    pbr_shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.4)
    pbr_shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.0)
    material.CreateSurfaceOutput().ConnectToSource(pbr_shader.ConnectableAPI(), "surface")
    return material


def bind_material(prim: Usd.Prim, material: UsdShade.Material) -> None:
    binding_api = UsdShade.MaterialBindingAPI.Apply(prim)
    binding_api.Bind(material)


#############
# Full Usage
#############

mtl = create_material(stage, "/World/Looks/Red", Gf.Vec3f(1.0, 0.0, 0.0))
cube = UsdGeom.Cube.Define(stage, "/World/Cube")
bind_material(cube.GetPrim(), mtl)
bound, _ = UsdShade.MaterialBindingAPI(cube.GetPrim()).ComputeBoundMaterial()
print(bound.GetPath())
print(UsdShade.Shader(stage.GetPrimAtPath("/World/Looks/Red/PBRShader")).GetInput("diffuseColor").Get())
