# expect: accept
# what: animate a camera dolly with time samples.
from pxr import UsdGeom, Gf

stage.SetStartTimeCode(1)
stage.SetEndTimeCode(48)
cam = UsdGeom.Camera.Define(stage, "/World/DollyCam")
op = cam.AddTranslateOp()
for frame in range(1, 49, 8):
    op.Set(Gf.Vec3d(0, 1.5, 20 - frame * 0.25), frame)
print(op.GetAttr().GetTimeSamples())
