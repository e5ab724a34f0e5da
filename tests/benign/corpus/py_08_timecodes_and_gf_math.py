# expect: accept
# what: Gf math: vectors, quaternions, interpolation and IsClose.
from pxr import Gf, UsdGeom

a = Gf.Vec3d(1, 0, 0)
b = Gf.Vec3d(0, 1, 0)
mid = Gf.Lerp(0.5, a, b)
q = Gf.Rotation(Gf.Vec3d(0, 0, 1), 90).GetQuat()
rotated = Gf.Rotation(q).TransformDir(a)
print(mid, Gf.Dot(a, b), Gf.Cross(a, b), rotated, Gf.IsClose(rotated, b, 1e-9))
orient = UsdGeom.Xform.Define(stage, "/World/Oriented").AddOrientOp()
orient.Set(Gf.Quatf(q))
print(orient.Get())
