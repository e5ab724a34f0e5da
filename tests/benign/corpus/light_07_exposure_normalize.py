# expect: accept
# what: convert intensities to exposure stops and back, normalize all lights of a scene to a target EV.
import math

from pxr import UsdLux

lights = {
    "Sun": (UsdLux.DistantLight, 5.0),
    "Window": (UsdLux.RectLight, 1200.0),
    "Bulb": (UsdLux.SphereLight, 300.0),
    "Spot": (UsdLux.DiskLight, 2000.0),
}
for name, (cls, intensity) in lights.items():
    cls.Define(stage, f"/World/Lights/{name}").CreateIntensityAttr(intensity)


def split_exposure(intensity: float) -> tuple[float, float]:
    stops = math.floor(math.log2(intensity)) if intensity > 0 else 0
    return intensity / (2 ** stops), float(stops)


for prim in stage.GetPrimAtPath("/World/Lights").GetChildren():
    light = UsdLux.LightAPI(prim)
    value = light.GetIntensityAttr().Get()
    base, stops = split_exposure(value)
    light.GetIntensityAttr().Set(base)
    light.CreateExposureAttr(stops)
    light.CreateNormalizeAttr(True)

for prim in stage.GetPrimAtPath("/World/Lights").GetChildren():
    light = UsdLux.LightAPI(prim)
    i, e = light.GetIntensityAttr().Get(), light.GetExposureAttr().Get()
    print(f"{prim.GetName():8s} intensity={i:.3f} exposure={e:+.0f} effective={i * 2 ** e:.1f}")
