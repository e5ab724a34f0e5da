# expect: accept
# what: compute world transforms with UsdGeom.XformCache.
from pxr import Usd, UsdGeom, Gf

parent = UsdGeom.Xform.Define(stage, "/World/Parent")
parent.AddTranslateOp().Set(Gf.Vec3d(0, 5, 0))
child = UsdGeom.Xform.Define(stage, "/World/Parent/Child")
child.AddTranslateOp().Set(Gf.Vec3d(1, 0, 0))
cache = UsdGeom.XformCache(Usd.TimeCode.Default())
world = cache.GetLocalToWorldTransform(child.GetPrim())
print("child world position", world.ExtractTranslation())
