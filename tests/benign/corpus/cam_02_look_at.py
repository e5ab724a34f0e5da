# expect: accept
# what: aim a camera at a target with a look-at matrix.
from pxr import UsdGeom, Gf

eye = Gf.Vec3d(6, 4, 6)
target = Gf.Vec3d(0, 0, 0)
up = Gf.Vec3d(0, 1, 0)
view = Gf.Matrix4d().SetLookAt(eye, target, up)
cam = UsdGeom.Camera.Define(stage, "/World/ShotCam")
cam.AddTransformOp().Set(view.GetInverse())
cam.CreateFocalLengthAttr(50)
print("camera at", cam.ComputeLocalToWorldTransform(0).ExtractTranslation())
