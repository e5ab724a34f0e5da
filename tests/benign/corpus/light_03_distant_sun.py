# expect: accept
# what: a distant light as the sun, angled with a rotate op, colour from temperature.
from pxr import UsdLux, Gf

sun = UsdLux.DistantLight.Define(stage, "/World/Sun")
sun.CreateIntensityAttr(3)
sun.CreateAngleAttr(0.53)
sun.CreateEnableColorTemperatureAttr(True)
sun.CreateColorTemperatureAttr(5600)
sun.AddRotateXYZOp().Set(Gf.Vec3f(-45, 30, 0))
print("sun temperature", sun.GetColorTemperatureAttr().Get())
