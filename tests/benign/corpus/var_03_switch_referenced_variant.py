# expect: accept
# what: reference the lamp asset and switch its colour variant.
lamp = stage.DefinePrim("/World/Lamp", "Xform")
lamp.GetReferences().AddReference("/tmp/kitgate-benign-assets/lamp.usda")
vset = lamp.GetVariantSet("color")
print("available:", vset.GetVariantNames())
vset.SetVariantSelection("cool")
bulb = stage.GetPrimAtPath("/World/Lamp/Bulb")
print("bulb color", bulb.GetAttribute("inputs:color").Get())
