# expect: accept
# what: a bouncing ball with time-sampled translate.
import math
from pxr import UsdGeom, Gf

stage.SetStartTimeCode(0)
stage.SetEndTimeCode(60)
stage.SetTimeCodesPerSecond(24)
ball = UsdGeom.Sphere.Define(stage, "/World/Bouncy")
op = ball.AddTranslateOp()
for frame in range(0, 61, 4):
    height = abs(math.sin(frame / 60 * math.pi * 3)) * 3
    op.Set(Gf.Vec3d(frame * 0.1, height, 0), frame)
print(len(op.GetAttr().GetTimeSamples()), "samples")
