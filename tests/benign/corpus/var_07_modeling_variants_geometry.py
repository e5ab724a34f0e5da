# expect: accept
# what: a modelingVariant set with different child geometry per variant (sphere vs cube vs cone head).
from pxr import UsdGeom

robot = UsdGeom.Xform.Define(stage, "/World/Robot")
UsdGeom.Cylinder.Define(stage, "/World/Robot/Body")
vsets = robot.GetPrim().GetVariantSets()
heads = vsets.AddVariantSet("modelingVariant")

builders = {"Round": UsdGeom.Sphere, "Boxy": UsdGeom.Cube, "Pointy": UsdGeom.Cone}
for variant, schema in builders.items():
    heads.AddVariant(variant)
    heads.SetVariantSelection(variant)
    with heads.GetVariantEditContext():
        head = schema.Define(stage, "/World/Robot/Head")
        UsdGeom.XformCommonAPI(head).SetTranslate((0, 1.5, 0))

for variant in sorted(builders):
    heads.SetVariantSelection(variant)
    head = stage.GetPrimAtPath("/World/Robot/Head")
    print(variant, "->", head.GetTypeName())
heads.SetVariantSelection("Round")
print("variant sets:", vsets.GetNames())
