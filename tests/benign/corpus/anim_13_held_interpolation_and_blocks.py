# expect: accept
# what: stepped (held) interpolation for a stop-motion look, plus a value block to cut an attribute's animation.
from pxr import Sdf, Usd, UsdGeom

stage.SetInterpolationType(Usd.InterpolationTypeHeld)
puppet = UsdGeom.Xform.Define(stage, "/World/Puppet")
op = puppet.AddRotateZOp()
for frame, angle in [(1, 0), (3, 15), (5, 30), (7, 10), (9, 0)]:
    op.Set(float(angle), frame)

print("held at 4:", op.Get(4), "held at 8:", op.Get(8))
stage.SetInterpolationType(Usd.InterpolationTypeLinear)
print("linear at 4:", op.Get(4))

scale = puppet.AddScaleOp()
scale.Set((1, 1, 1), 1)
scale.Set((1.2, 1.2, 1.2), 5)
scale.GetAttr().Set(Sdf.ValueBlock())
print("scale after block:", scale.Get(3), "authored samples:", scale.GetAttr().GetNumTimeSamples())
print("interpolation:", stage.GetInterpolationType())
