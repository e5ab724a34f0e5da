# expect: accept
# what: find meshes without a material, bind a default; unbind one explicitly; report counts.
from pxr import Usd, UsdGeom, UsdShade


def ensure_default_material(stage) -> UsdShade.Material:
    path = "/World/Looks/Default"
    prim = stage.GetPrimAtPath(path)
    if prim and prim.IsA(UsdShade.Material):
        return UsdShade.Material(prim)
    mat = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, path + "/Surface")
    shader.CreateIdAttr("UsdPreviewSurface")
    mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return mat


for i in range(4):
    UsdGeom.Cube.Define(stage, f"/World/Blocks/Block{i}")

default = ensure_default_material(stage)
assert ensure_default_material(stage).GetPath() == default.GetPath()

newly_bound = []
for prim in stage.Traverse():
    if not prim.IsA(UsdGeom.Gprim):
        continue
    material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    if not material:
        UsdShade.MaterialBindingAPI.Apply(prim).Bind(default)
        newly_bound.append(prim.GetPath().pathString)

UsdShade.MaterialBindingAPI(stage.GetPrimAtPath("/World/Blocks/Block3")).UnbindAllBindings()
print("bound default to", len(newly_bound), "gprims")
print("\n".join(newly_bound))
still = [p for p in newly_bound if UsdShade.MaterialBindingAPI(stage.GetPrimAtPath(p)).ComputeBoundMaterial()[0]]
print("still bound:", len(still))
