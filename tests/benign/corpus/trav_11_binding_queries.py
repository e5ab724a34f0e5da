# expect: accept
# what: query direct material bindings and list which prims use which material.
from pxr import UsdGeom, UsdShade

mat_a = UsdShade.Material.Define(stage, "/World/Looks/A")
mat_b = UsdShade.Material.Define(stage, "/World/Looks/B")
for i in range(4):
    cube = UsdGeom.Cube.Define(stage, f"/World/Bound/C{i}")
    UsdShade.MaterialBindingAPI.Apply(cube.GetPrim()).Bind(mat_a if i % 2 else mat_b)
usage: dict = {}
for prim in stage.Traverse():
    if prim.HasAPI(UsdShade.MaterialBindingAPI):
        mat = UsdShade.MaterialBindingAPI(prim).GetDirectBinding().GetMaterial()
        usage.setdefault(str(mat.GetPath()), []).append(prim.GetName())
for path in sorted(usage):
    print(path, "->", usage[path])
