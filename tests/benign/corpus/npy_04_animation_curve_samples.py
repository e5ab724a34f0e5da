# expect: accept
# what: a pipeline script samples an eased animation curve with numpy and writes time samples.
import numpy as np
from pxr import Gf, UsdGeom

START, END = 1, 48
frames = np.arange(START, END + 1)
t = (frames - START) / (END - START)
ease = t * t * (3.0 - 2.0 * t)
heights = 5.0 * ease
angles = np.degrees(np.arctan2(np.gradient(heights), 1.0))

stage.SetStartTimeCode(START)
stage.SetEndTimeCode(END)
ball = UsdGeom.Sphere.Define(stage, "/World/Ball")
move = ball.AddTranslateOp()
tilt = ball.AddRotateXOp()
for f, h, a in zip(frames.tolist(), heights.tolist(), angles.tolist()):
    move.Set(Gf.Vec3d(0.0, h, 0.0), f)
    tilt.Set(float(a), f)
print("samples", len(move.GetAttr().GetTimeSamples()), "peak", round(float(heights.max()), 3))
print("max tilt", round(float(angles.max()), 3), "at frame", int(frames[np.argmax(angles)]))
