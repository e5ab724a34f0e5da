# expect: accept
# what: two variant sets on one prim and the variant selection query.
from pxr import Usd

car = stage.DefinePrim("/World/Car", "Xform")
vsets = car.GetVariantSets()
paint = vsets.AddVariantSet("paint")
trim = vsets.AddVariantSet("trim")
for v in ("matte", "gloss"):
    paint.AddVariant(v)
for v in ("base", "sport"):
    trim.AddVariant(v)
paint.SetVariantSelection("gloss")
trim.SetVariantSelection("sport")
print(vsets.GetNames(), vsets.GetAllVariantSelections())
