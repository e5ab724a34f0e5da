# expect: accept
# what: reset the xform stack and make a prim invisible.
from pxr import UsdGeom

hud = UsdGeom.Xform.Define(stage, "/World/HUD")
hud.SetResetXformStack(True)
hud.AddTranslateOp().Set((0, 0, -1))
UsdGeom.Imageable(hud).MakeInvisible()
print(hud.GetResetXformStack(), UsdGeom.Imageable(hud).ComputeVisibility())
