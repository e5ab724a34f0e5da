# expect: accept
# what: set a full 4x4 transform and read back the local transform.
from pxr import UsdGeom, Gf

xf = UsdGeom.Xform.Define(stage, "/World/Matrixed")
m = Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(0, 1, 0), 90)) * Gf.Matrix4d().SetTranslate(Gf.Vec3d(3, 0, 0))
xf.AddTransformOp().Set(m)
local = xf.GetLocalTransformation()
print(local.ExtractTranslation())
