# expect: accept
# what: an agent-style material factory: dataclass specs -> UsdPreviewSurface materials, bound by name.
from __future__ import annotations

from dataclasses import dataclass

from pxr import Gf, Sdf, UsdGeom, UsdShade


@dataclass(frozen=True)
class MaterialSpec:
    name: str
    base_color: tuple[float, float, float]
    roughness: float = 0.5
    metallic: float = 0.0


SPECS = [
    MaterialSpec("BrushedSteel", (0.62, 0.62, 0.64), roughness=0.35, metallic=1.0),
    MaterialSpec("RedPlastic", (0.8, 0.05, 0.05), roughness=0.2),
    MaterialSpec("Concrete", (0.5, 0.5, 0.48), roughness=0.9),
]


def create_material(stage, spec: MaterialSpec, root: str = "/World/Looks") -> UsdShade.Material:
    material = UsdShade.Material.Define(stage, f"{root}/{spec.name}")
    shader = UsdShade.Shader.Define(stage, f"{root}/{spec.name}/PreviewSurface")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*spec.base_color))
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(spec.roughness)
    shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(spec.metallic)
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return material


materials = {spec.name: create_material(stage, spec) for spec in SPECS}

for i, name in enumerate(materials):
    cube = UsdGeom.Cube.Define(stage, f"/World/Samples/{name}Cube")
    cube.AddTranslateOp().Set(Gf.Vec3d(i * 2.5, 1.0, 0.0))
    UsdShade.MaterialBindingAPI.Apply(cube.GetPrim()).Bind(materials[name])

print(f"Created {len(materials)} materials: {', '.join(sorted(materials))}")
