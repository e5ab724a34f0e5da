# expect: accept
# what: a procedural walk cycle on a simple leg rig (hip/knee rotateX keys) looping over 4 cycles.
import math

from pxr import Gf, UsdGeom

CYCLE = 24
FRAMES = CYCLE * 4
legs = {}
for side, phase in (("L", 0.0), ("R", math.pi)):
    hip = UsdGeom.Xform.Define(stage, f"/World/Walker/Hip_{side}")
    hip.AddTranslateOp().Set(Gf.Vec3d(0.15 if side == "L" else -0.15, 1.0, 0))
    hip_rot = hip.AddRotateXOp()
    knee = UsdGeom.Xform.Define(stage, f"/World/Walker/Hip_{side}/Knee")
    knee.AddTranslateOp().Set(Gf.Vec3d(0, -0.5, 0))
    knee_rot = knee.AddRotateXOp()
    UsdGeom.Capsule.Define(stage, f"/World/Walker/Hip_{side}/Knee/Shin")
    legs[side] = (hip_rot, knee_rot, phase)

for frame in range(FRAMES + 1):
    t = 2 * math.pi * frame / CYCLE
    for hip_rot, knee_rot, phase in legs.values():
        hip_rot.Set(30 * math.sin(t + phase), frame)
        knee_rot.Set(max(0.0, 45 * math.sin(t + phase + math.pi / 2)), frame)

stage.SetStartTimeCode(0)
stage.SetEndTimeCode(FRAMES)
hip_l = legs["L"][0]
print("samples per op:", len(hip_l.GetAttr().GetTimeSamples()))
print("hip L at 6: %.2f, hip R at 6: %.2f" % (legs["L"][0].Get(6), legs["R"][0].Get(6)))
print("knee L max: %.2f" % max(legs["L"][1].Get(f) for f in range(FRAMES + 1)))
