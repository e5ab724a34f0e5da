# expect: accept
# what: build a few materials, then dump a JSON report of every shader's inputs (what an agent returns to its user).
import json

from pxr import Gf, Sdf, Usd, UsdShade

palette = {"Sand": (0.76, 0.7, 0.5), "Moss": (0.35, 0.42, 0.2), "Slate": (0.3, 0.33, 0.36)}
for name, rgb in palette.items():
    mat = UsdShade.Material.Define(stage, f"/World/Materials/{name}")
    sh = UsdShade.Shader.Define(stage, f"/World/Materials/{name}/Preview")
    sh.CreateIdAttr("UsdPreviewSurface")
    sh.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*rgb))
    sh.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.8)
    mat.CreateSurfaceOutput().ConnectToSource(sh.ConnectableAPI(), "surface")


def to_jsonable(value):
    if isinstance(value, (Gf.Vec3f, Gf.Vec3d)):
        return [round(float(c), 4) for c in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


report = {}
for prim in Usd.PrimRange(stage.GetPrimAtPath("/World/Materials")):
    if not prim.IsA(UsdShade.Shader):
        continue
    shader = UsdShade.Shader(prim)
    report[str(prim.GetPath())] = {
        "id": shader.GetIdAttr().Get(),
        "inputs": {i.GetBaseName(): to_jsonable(i.Get()) for i in shader.GetInputs()},
    }

print(json.dumps(report, indent=2, sort_keys=True))
