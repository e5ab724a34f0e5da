# expect: accept
# what: author a variant directly with Sdf API in the root layer.
from pxr import Sdf

layer = stage.GetRootLayer()
prim_spec = Sdf.CreatePrimInLayer(layer, "/World/Sign")
prim_spec.specifier = Sdf.SpecifierDef
prim_spec.typeName = "Xform"
vset_spec = Sdf.VariantSetSpec(prim_spec, "language")
for lang in ("en", "de", "fr"):
    v = Sdf.VariantSpec(vset_spec, lang)
    attr = Sdf.AttributeSpec(v.primSpec, "label", Sdf.ValueTypeNames.String)
    attr.default = {"en": "Exit", "de": "Ausgang", "fr": "Sortie"}[lang]
prim_spec.variantSelections["language"] = "de"
prim_spec.variantSetNameList.Prepend("language")
print(stage.GetPrimAtPath("/World/Sign").GetAttribute("label").Get())
