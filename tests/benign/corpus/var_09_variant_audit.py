# expect: accept
# what: audit every variant set on the stage: names, selections, and prims with an unset selection.
from collections import defaultdict

from pxr import Usd, UsdGeom

for i, (color, lod) in enumerate([("red", "high"), ("blue", None), (None, "low")]):
    prim = UsdGeom.Xform.Define(stage, f"/World/Asset{i}").GetPrim()
    vs = prim.GetVariantSets()
    c = vs.AddVariantSet("color")
    for v in ("red", "blue"):
        c.AddVariant(v)
    l = vs.AddVariantSet("lod")
    for v in ("high", "low"):
        l.AddVariant(v)
    if color:
        c.SetVariantSelection(color)
    if lod:
        l.SetVariantSelection(lod)

selections = defaultdict(list)
unset = []
for prim in Usd.PrimRange(stage.GetPseudoRoot()):
    vsets = prim.GetVariantSets()
    for set_name in vsets.GetNames():
        sel = vsets.GetVariantSelection(set_name)
        if sel:
            selections[(set_name, sel)].append(prim.GetName())
        else:
            unset.append(f"{prim.GetPath()}{{{set_name}=}}")

for (set_name, sel), prims in sorted(selections.items()):
    print(f"{set_name}={sel}: {', '.join(prims)}")
print("unset:", unset)
