# expect: accept
# what: batch edits in an Sdf.ChangeBlock with Sdf API.
from pxr import Sdf

layer = stage.GetRootLayer()
with Sdf.ChangeBlock():
    for i in range(20):
        spec = Sdf.CreatePrimInLayer(layer, f"/World/Batch/Item{i:02d}")
        spec.specifier = Sdf.SpecifierDef
        spec.typeName = "Xform"
        attr = Sdf.AttributeSpec(spec, "index", Sdf.ValueTypeNames.Int)
        attr.default = i
print(len(stage.GetPrimAtPath("/World/Batch").GetChildren()))
