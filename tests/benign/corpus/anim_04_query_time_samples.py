# expect: accept
# what: read time samples back, query bracketing samples.
from pxr import UsdGeom, Usd

obj = UsdGeom.Xform.Define(stage, "/World/Mover")
op = obj.AddTranslateOp()
for t, x in ((1, 0.0), (10, 5.0), (20, 12.0)):
    op.Set((x, 0, 0), t)
attr = op.GetAttr()
print(attr.GetBracketingTimeSamples(15))
print(attr.Get(Usd.TimeCode(15)))
print(attr.ValueMightBeTimeVarying())
