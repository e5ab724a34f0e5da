# expect: accept
# what: an orthographic top camera.
from pxr import UsdGeom, Gf

top = UsdGeom.Camera.Define(stage, "/World/TopCam")
top.CreateProjectionAttr(UsdGeom.Tokens.orthographic)
top.CreateHorizontalApertureAttr(2000)
top.CreateVerticalApertureAttr(2000)
top.AddTranslateOp().Set(Gf.Vec3d(0, 50, 0))
top.AddRotateXOp().Set(-90)
print(top.GetProjectionAttr().Get())
