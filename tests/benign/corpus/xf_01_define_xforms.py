# expect: accept
# what: a small Xform hierarchy with translate/rotate/scale ops.
from pxr import UsdGeom, Gf

root = UsdGeom.Xform.Define(stage, "/World/Furniture")
table = UsdGeom.Xform.Define(stage, "/World/Furniture/Table")
xf = UsdGeom.XformCommonAPI(table)
xf.SetTranslate(Gf.Vec3d(1.0, 0.0, 2.5))
xf.SetRotate(Gf.Vec3f(0.0, 45.0, 0.0))
xf.SetScale(Gf.Vec3f(1.2, 1.0, 1.2))
print("defined", table.GetPath())
