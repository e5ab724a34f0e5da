# expect: accept
# what: a three-point light rig with UsdLux.
from pxr import UsdLux, Gf

key = UsdLux.RectLight.Define(stage, "/World/Lights/Key")
key.CreateIntensityAttr(5000)
key.CreateWidthAttr(2)
key.CreateHeightAttr(1)
key.AddTranslateOp().Set(Gf.Vec3d(3, 4, 3))
fill = UsdLux.SphereLight.Define(stage, "/World/Lights/Fill")
fill.CreateIntensityAttr(1500)
fill.CreateRadiusAttr(0.5)
rim = UsdLux.DiskLight.Define(stage, "/World/Lights/Rim")
rim.CreateIntensityAttr(3000)
rim.CreateColorAttr(Gf.Vec3f(0.9, 0.95, 1.0))
print([p.GetName() for p in stage.GetPrimAtPath("/World/Lights").GetChildren()])
