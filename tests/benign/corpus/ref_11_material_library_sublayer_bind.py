# expect: accept
# what: sublayer the material library and bind its materials by name to props via a lookup table.
from pxr import Sdf, UsdGeom, UsdShade

root = stage.GetRootLayer()
root.subLayerPaths.append("/tmp/kitgate-benign-assets/materials.usda")

assignments = {"Table": "Wood", "Lamp": "Metal", "Vase": "Glass"}
for name, material_name in assignments.items():
    geo = UsdGeom.Cube.Define(stage, f"/World/Props/{name}")
    mat_prim = stage.GetPrimAtPath(Sdf.Path("/Looks").AppendChild(material_name))
    if not mat_prim:
        print(f"{name}: material {material_name!r} not found in the library")
        continue
    UsdShade.MaterialBindingAPI.Apply(geo.GetPrim()).Bind(UsdShade.Material(mat_prim))
    print(f"{name}: bound {mat_prim.GetPath()}")

print("library materials:", [p.GetName() for p in stage.GetPrimAtPath("/Looks").GetChildren()])
print("sublayers:", [p.rsplit("/", 1)[-1] for p in root.subLayerPaths])
