# expect: accept
# what: XformCommonAPI for SRT with a pivot, then read back the decomposed values and the matrix.
from pxr import Gf, Usd, UsdGeom

door = UsdGeom.Cube.Define(stage, "/World/Door")
api = UsdGeom.XformCommonAPI(door)
api.SetTranslate(Gf.Vec3d(2.0, 1.0, 0.0))
api.SetRotate(Gf.Vec3f(0, 35, 0), UsdGeom.XformCommonAPI.RotationOrderXYZ)
api.SetScale(Gf.Vec3f(0.5, 1.0, 0.05))
api.SetPivot(Gf.Vec3f(-1.0, 0, 0))

translate, rotate, scale, pivot, order = api.GetXformVectors(Usd.TimeCode.Default())
print("translate", translate)
print("rotate", rotate, "order", order)
print("scale", scale, "pivot", pivot)
print("op order:", [op.GetOpName() for op in door.GetOrderedXformOps()])
m = door.GetLocalTransformation()
print("hinge world pos:", tuple(round(v, 4) for v in m.Transform(Gf.Vec3d(-1, 0, 0))))
