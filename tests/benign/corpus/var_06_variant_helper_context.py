# expect: accept
# what: a helper that authors each variant through GetVariantEditContext, then checks what each selection composes to.
from pxr import Gf, UsdGeom


def add_variant_set(prim, set_name: str, variants: dict, default: str):
    vset = prim.GetVariantSets().AddVariantSet(set_name)
    for variant_name, build in variants.items():
        vset.AddVariant(variant_name)
        vset.SetVariantSelection(variant_name)
        with vset.GetVariantEditContext():
            build(prim)
    vset.SetVariantSelection(default)
    return vset


def small(prim):
    UsdGeom.Xformable(prim).AddScaleOp().Set(Gf.Vec3f(0.5, 0.5, 0.5))


def medium(prim):
    UsdGeom.Xformable(prim).AddScaleOp().Set(Gf.Vec3f(1, 1, 1))


def large(prim):
    UsdGeom.Xformable(prim).AddScaleOp().Set(Gf.Vec3f(2, 2, 2))
    prim.GetAttribute("size").Set(1.5) if prim.GetAttribute("size") else None


crate = UsdGeom.Cube.Define(stage, "/World/Crate")
vset = add_variant_set(crate.GetPrim(), "size", {"small": small, "medium": medium, "large": large}, "medium")

for name in vset.GetVariantNames():
    vset.SetVariantSelection(name)
    scale_attr = crate.GetPrim().GetAttribute("xformOp:scale")
    print(f"{name:7s} scale={scale_attr.Get()} size={crate.GetSizeAttr().Get()}")
vset.SetVariantSelection("medium")
print("selection:", vset.GetVariantSelection())
