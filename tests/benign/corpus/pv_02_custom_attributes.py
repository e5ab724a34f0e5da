# expect: accept
# what: custom attributes of several types with documentation.
from pxr import Sdf, Gf

prim = stage.DefinePrim("/World/Asset", "Xform")
prim.CreateAttribute("asset:version", Sdf.ValueTypeNames.Int).Set(3)
prim.CreateAttribute("asset:owner", Sdf.ValueTypeNames.String).Set("layout-team")
prim.CreateAttribute("asset:tags", Sdf.ValueTypeNames.TokenArray).Set(["prop", "hero"])
prim.CreateAttribute("asset:pivot", Sdf.ValueTypeNames.Double3).Set(Gf.Vec3d(0, 0.5, 0))
attr = prim.CreateAttribute("asset:weight", Sdf.ValueTypeNames.Float, custom=True)
attr.Set(12.5)
attr.SetDocumentation("weight in kilograms")
print({a.GetName(): a.Get() for a in prim.GetAttributes()})
