# expect: accept
# what: an orbiting turntable camera: keys a translate + rotateY every 10 frames over 120 frames.
import math

from pxr import Gf, UsdGeom

stage.SetStartTimeCode(1)
stage.SetEndTimeCode(120)
stage.SetTimeCodesPerSecond(24)

rig = UsdGeom.Xform.Define(stage, "/World/TurntableRig")
cam = UsdGeom.Camera.Define(stage, "/World/TurntableRig/Cam")
cam.CreateFocalLengthAttr(50)
translate = rig.AddTranslateOp()
rotate = rig.AddRotateYOp()
tilt = cam.AddRotateXOp()
tilt.Set(-12.0)

radius, height = 8.0, 2.5
for frame in range(1, 121, 10):
    angle = (frame - 1) / 120.0 * 360.0
    rad = math.radians(angle)
    translate.Set(Gf.Vec3d(radius * math.sin(rad), height, radius * math.cos(rad)), frame)
    rotate.Set(angle, frame)

samples = rotate.GetAttr().GetTimeSamples()
print("keys:", len(samples), "first:", samples[0], "last:", samples[-1])
pos = translate.Get(61)
print("frame 61 position: (%.2f, %.2f, %.2f)" % (pos[0], pos[1], pos[2]))
print("interpolated rotate at 65:", rotate.Get(65))
