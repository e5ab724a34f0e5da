# expect: accept
# what: retime existing animation: read samples, scale time by 2x and offset by 100, write to a new attr.
from pxr import Sdf, UsdGeom

ball = UsdGeom.Sphere.Define(stage, "/World/Ball")
radius = ball.CreateRadiusAttr()
for frame, value in [(1, 1.0), (5, 1.5), (10, 0.8), (20, 1.0)]:
    radius.Set(value, frame)

SCALE, OFFSET = 2.0, 100.0
retimed = ball.GetPrim().CreateAttribute("userProperties:radiusRetimed", Sdf.ValueTypeNames.Double)
for t in radius.GetTimeSamples():
    retimed.Set(radius.Get(t), t * SCALE + OFFSET)

print("source:", [(int(t), radius.Get(t)) for t in radius.GetTimeSamples()])
print("retimed:", [(int(t), retimed.Get(t)) for t in retimed.GetTimeSamples()])
lo, hi = retimed.GetBracketingTimeSamples(115)[1:] if len(retimed.GetBracketingTimeSamples(115)) == 3 else retimed.GetBracketingTimeSamples(115)
print("bracketing 115:", lo, hi)
