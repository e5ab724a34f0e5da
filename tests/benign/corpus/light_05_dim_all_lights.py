# expect: accept
# what: traverse and scale every light's intensity.
from pxr import UsdLux

UsdLux.SphereLight.Define(stage, "/World/L1").CreateIntensityAttr(1000)
UsdLux.RectLight.Define(stage, "/World/L2").CreateIntensityAttr(400)
dimmed = []
for prim in stage.Traverse():
    if prim.HasAPI(UsdLux.LightAPI):
        light = UsdLux.LightAPI(prim)
        attr = light.GetIntensityAttr()
        attr.Set(attr.Get() * 0.5)
        dimmed.append(str(prim.GetPath()))
print("dimmed", dimmed)
