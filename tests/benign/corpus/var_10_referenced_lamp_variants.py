# expect: accept
# what: reference the lamp asset twice and give each instance a different color variant selection.
from pxr import Gf, UsdGeom, UsdLux

LAMP = "/tmp/kitgate-benign-assets/lamp.usda"
placements = {"DeskLamp": ("warm", (1.0, 0.0, -0.5)), "ReadingLamp": ("cool", (-1.5, 0.0, 0.8))}
for name, (variant, pos) in placements.items():
    xf = UsdGeom.Xform.Define(stage, f"/World/Lamps/{name}")
    xf.GetPrim().GetReferences().AddReference(LAMP)
    xf.AddTranslateOp().Set(Gf.Vec3d(*pos))
    xf.GetPrim().GetVariantSets().GetVariantSet("color").SetVariantSelection(variant)

for name in placements:
    prim = stage.GetPrimAtPath(f"/World/Lamps/{name}")
    bulb = UsdLux.SphereLight(prim.GetChild("Bulb"))
    vset = prim.GetVariantSets().GetVariantSet("color")
    print(name, vset.GetVariantSelection(), vset.GetVariantNames(), bulb.GetColorAttr().Get())
