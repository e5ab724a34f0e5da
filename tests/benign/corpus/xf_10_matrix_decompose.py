# expect: accept
# what: decompose an authored matrix into translate/rotate/scale with Gf.Transform and re-author as ops.
from pxr import Gf, UsdGeom

m = (Gf.Matrix4d().SetScale(Gf.Vec3d(2, 2, 2))
     * Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(0, 0, 1), 30))
     * Gf.Matrix4d().SetTranslate(Gf.Vec3d(5, 1, -3)))
legacy = UsdGeom.Xform.Define(stage, "/World/Legacy")
legacy.AddTransformOp().Set(m)

xf = Gf.Transform(legacy.GetLocalTransformation())
clean = UsdGeom.Xform.Define(stage, "/World/Clean")
clean.AddTranslateOp().Set(xf.GetTranslation())
angles = xf.GetRotation().Decompose(Gf.Vec3d.XAxis(), Gf.Vec3d.YAxis(), Gf.Vec3d.ZAxis())
clean.AddRotateXYZOp().Set(Gf.Vec3f(*angles))
clean.AddScaleOp().Set(Gf.Vec3f(xf.GetScale()))

same = Gf.IsClose(legacy.GetLocalTransformation(), clean.GetLocalTransformation(), 1e-6)
print("translate", xf.GetTranslation())
print("rotate xyz", tuple(round(a, 3) for a in angles))
print("scale", xf.GetScale())
print("matrices match:", same)
