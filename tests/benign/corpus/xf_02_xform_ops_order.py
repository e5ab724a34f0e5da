# expect: accept
# what: explicit xform ops and their order.
from pxr import UsdGeom, Gf

prim = UsdGeom.Xform.Define(stage, "/World/Pivoted")
t = prim.AddTranslateOp()
t.Set(Gf.Vec3d(0, 1, 0))
r = prim.AddRotateXYZOp()
r.Set(Gf.Vec3f(10, 20, 30))
s = prim.AddScaleOp()
s.Set(Gf.Vec3f(2, 2, 2))
print([op.GetOpName() for op in prim.GetOrderedXformOps()])
