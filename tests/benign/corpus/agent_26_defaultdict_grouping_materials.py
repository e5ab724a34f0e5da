# expect: accept
# what: group gprims by bound material with defaultdict and report material usage, most used first.
from collections import defaultdict

from pxr import Sdf, UsdGeom, UsdShade

mats = {}
for name in ("Paint", "Chrome", "Glass"):
    mat = UsdShade.Material.Define(stage, f"/World/Looks/{name}")
    shader = UsdShade.Shader.Define(stage, f"/World/Looks/{name}/S")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.3)
    mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    mats[name] = mat

layout = {"Door_L": "Paint", "Door_R": "Paint", "Hood": "Paint", "Bumper": "Chrome", "Windshield": "Glass",
          "Mirror_L": "Chrome", "Mirror_R": "Chrome", "Roof": "Paint", "Tire": None}
for part, mat_name in layout.items():
    geo = UsdGeom.Cube.Define(stage, f"/World/Car/{part}")
    if mat_name:
        UsdShade.MaterialBindingAPI.Apply(geo.GetPrim()).Bind(mats[mat_name])

usage = defaultdict(list)
for prim in stage.GetPrimAtPath("/World/Car").GetChildren():
    material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    usage[material.GetPath().name if material else "<unbound>"].append(prim.GetName())

for mat_name, parts in sorted(usage.items(), key=lambda kv: (-len(kv[1]), kv[0])):
    print(f"{mat_name:10s} x{len(parts)}: {', '.join(parts)}")
