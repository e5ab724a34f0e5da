# expect: accept
# what: a turntable: rotateY over 100 frames with linear keys.
from pxr import UsdGeom, Usd

table = UsdGeom.Xform.Define(stage, "/World/Turntable")
rot = table.AddRotateYOp()
rot.Set(0.0, Usd.TimeCode(1))
rot.Set(360.0, Usd.TimeCode(100))
print(rot.Get(Usd.TimeCode(50.5)))
