# expect: accept
# what: a spiral staircase with math (sin/cos/radians) and string formatting.
import math
from pxr import UsdGeom, Gf

steps = 16
for i in range(steps):
    angle = math.radians(i * 360 / steps)
    step = UsdGeom.Cube.Define(stage, "/World/Stairs/Step%02d" % i)
    step.AddTranslateOp().Set(Gf.Vec3d(round(2 * math.cos(angle), 6), i * 0.2, round(2 * math.sin(angle), 6)))
    step.AddRotateYOp().Set(-math.degrees(angle))
    step.AddScaleOp().Set(Gf.Vec3f(1.0, 0.1, 0.4))
print("{} steps, top at {:.1f}".format(steps, (steps - 1) * 0.2))
