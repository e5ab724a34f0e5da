# expect: accept
# what: "frame everything": compute the scene bound and place a camera so it fits the vertical fov.
import math

from pxr import Gf, Usd, UsdGeom

for i in range(5):
    c = UsdGeom.Cube.Define(stage, f"/World/Stuff/Box{i}")
    c.AddTranslateOp().Set(Gf.Vec3d(i * 2 - 4, i * 0.5, (i % 2) * 3))

cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default", "render"], useExtentsHint=False)
bound = cache.ComputeWorldBound(stage.GetPrimAtPath("/World/Stuff")).ComputeAlignedRange()
center, size = bound.GetMidpoint(), bound.GetSize()
radius = size.GetLength() / 2

cam = UsdGeom.Camera.Define(stage, "/World/FrameAllCam")
cam.CreateFocalLengthAttr(35.0)
cam.CreateVerticalApertureAttr(20.955)
vfov = 2 * math.atan(cam.GetVerticalApertureAttr().Get() / (2 * cam.GetFocalLengthAttr().Get()))
distance = radius / math.sin(vfov / 2)
cam.AddTranslateOp().Set(center + Gf.Vec3d(0, 0, distance))
near, far = max(0.01, distance - radius), distance + radius
cam.CreateClippingRangeAttr(Gf.Vec2f(near, far))

print("bound min", bound.GetMin(), "max", bound.GetMax())
print("distance %.3f clip (%.3f, %.3f)" % (distance, near, far))
