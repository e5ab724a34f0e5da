# expect: accept
# what: NVIDIA-snippet style: add a variant set with variants and author a value in each.
from pxr import Sdf, Usd, UsdGeom


def add_variant_set(prim: Usd.Prim, set_name: str, variant_names: list) -> Usd.VariantSet:
    vset = prim.GetVariantSets().AddVariantSet(set_name)
    for name in variant_names:
        vset.AddVariant(name)
    return vset


#############
# Full Usage
#############

sphere = UsdGeom.Sphere.Define(stage, "/World/Sphere")
vset = add_variant_set(sphere.GetPrim(), "size", ["small", "medium", "large"])
for variant_name, radius in zip(vset.GetVariantNames(), (0.5, 1.0, 2.0)):
    vset.SetVariantSelection(variant_name)
    with vset.GetVariantEditContext():
        sphere.GetRadiusAttr().Set(radius)
vset.SetVariantSelection("medium")

print(vset.GetVariantNames(), vset.GetVariantSelection())
print("radius:", sphere.GetRadiusAttr().Get())
layer_spec = stage.GetRootLayer().GetPrimAtPath("/World/Sphere")
print("variant sets in spec:", list(layer_spec.variantSets.keys()))
print(Sdf.Path("/World/Sphere").AppendVariantSelection("size", "large"))
