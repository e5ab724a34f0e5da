# expect: accept
# what: a perspective camera with focal length, aperture and clipping range.
from pxr import UsdGeom, Gf

cam = UsdGeom.Camera.Define(stage, "/World/Camera")
cam.CreateFocalLengthAttr(35.0)
cam.CreateHorizontalApertureAttr(36.0)
cam.CreateVerticalApertureAttr(24.0)
cam.CreateClippingRangeAttr(Gf.Vec2f(0.1, 10000))
cam.AddTranslateOp().Set(Gf.Vec3d(0, 2, 10))
print(cam.GetCamera().frustum.GetFOV())
