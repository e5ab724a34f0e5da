# expect: accept
# what: pipeline-style variant authoring at the Sdf level (VariantSetSpec/VariantSpec), then composed reads.
from pxr import Sdf, Usd

layer = stage.GetRootLayer()
prim_spec = Sdf.CreatePrimInLayer(layer, "/World/Building")
prim_spec.specifier = Sdf.SpecifierDef
prim_spec.typeName = "Xform"

vset_spec = Sdf.VariantSetSpec(prim_spec, "floors")
for count in (1, 3, 5):
    variant = Sdf.VariantSpec(vset_spec, f"f{count}")
    for level in range(count):
        floor = Sdf.PrimSpec(variant.primSpec, f"Floor{level}", Sdf.SpecifierDef, "Cube")
        attr = Sdf.AttributeSpec(floor, "size", Sdf.ValueTypeNames.Double)
        attr.default = 3.0
prim_spec.variantSetNameList.prependedItems.append("floors")
prim_spec.variantSelections["floors"] = "f3"

building = stage.GetPrimAtPath("/World/Building")
print("floors:", [c.GetName() for c in building.GetChildren()])
building.GetVariantSet("floors").SetVariantSelection("f5")
print("after switch:", len(building.GetChildren()))
print("variants:", building.GetVariantSet("floors").GetVariantNames())
