# expect: accept
# what: level-of-detail variants that define different child prims.
from pxr import UsdGeom

asset = stage.DefinePrim("/World/Tree", "Xform")
lod = asset.GetVariantSets().AddVariantSet("lod")
for level, segments in (("high", 64), ("medium", 16), ("low", 4)):
    lod.AddVariant(level)
    lod.SetVariantSelection(level)
    with lod.GetVariantEditContext():
        trunk = UsdGeom.Cylinder.Define(stage, "/World/Tree/Trunk")
        trunk.CreateHeightAttr(2.0)
        trunk.GetPrim().SetCustomDataByKey("segments", segments)
lod.SetVariantSelection("medium")
print(stage.GetPrimAtPath("/World/Tree/Trunk").GetCustomDataByKey("segments"))
