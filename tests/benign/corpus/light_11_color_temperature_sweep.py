# expect: accept
# what: a row of sphere lights sweeping color temperature, with blackbody enabled; summary via statistics.
import statistics

from pxr import Gf, UsdGeom, UsdLux

temperatures = list(range(2700, 7000, 600))
for i, kelvin in enumerate(temperatures):
    bulb = UsdLux.SphereLight.Define(stage, f"/World/Showroom/Bulb_{kelvin}K")
    bulb.CreateRadiusAttr(0.1)
    bulb.CreateEnableColorTemperatureAttr(True)
    bulb.CreateColorTemperatureAttr(float(kelvin))
    bulb.CreateIntensityAttr(400.0 + 20 * i)
    UsdGeom.Xformable(bulb).AddTranslateOp().Set(Gf.Vec3d(i * 1.5 - 5, 2.5, 0))

values = [UsdLux.SphereLight(p).GetColorTemperatureAttr().Get()
          for p in stage.GetPrimAtPath("/World/Showroom").GetChildren()]
print("lights:", len(values))
print("min/max K:", min(values), max(values))
print("mean K: %.1f, stdev: %.1f" % (statistics.mean(values), statistics.stdev(values)))
print("median intensity:", statistics.median(
    UsdLux.LightAPI(p).GetIntensityAttr().Get() for p in stage.GetPrimAtPath("/World/Showroom").GetChildren()))
