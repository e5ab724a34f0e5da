# expect: accept
# what: a variant set with three colour variants.
from pxr import UsdGeom, Gf

prim = UsdGeom.Sphere.Define(stage, "/World/Ball").GetPrim()
vset = prim.GetVariantSets().AddVariantSet("shadingVariant")
colors = {"red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1)}
for name, rgb in colors.items():
    vset.AddVariant(name)
    vset.SetVariantSelection(name)
    with vset.GetVariantEditContext():
        UsdGeom.Sphere(prim).CreateDisplayColorAttr([Gf.Vec3f(*rgb)])
vset.SetVariantSelection("green")
print(vset.GetVariantNames(), vset.GetVariantSelection())
