# expect: accept
# what: animated visibility and a time-sampled color.
from pxr import UsdGeom, Gf

blink = UsdGeom.Cube.Define(stage, "/World/Blink")
vis = blink.CreateVisibilityAttr()
for f in range(0, 20):
    vis.Set(UsdGeom.Tokens.invisible if f % 2 else UsdGeom.Tokens.inherited, f)
col = blink.CreateDisplayColorAttr()
col.Set([Gf.Vec3f(1, 0, 0)], 0)
col.Set([Gf.Vec3f(0, 0, 1)], 19)
print(vis.GetNumTimeSamples(), col.GetTimeSamples())
