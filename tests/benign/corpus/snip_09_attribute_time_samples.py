# expect: accept
# what: NVIDIA-snippet style: set time samples on an attribute and query values at, between and past keys.
from pxr import Usd, UsdGeom


def set_keys(attr, keys: dict) -> None:
    for time, value in keys.items():
        attr.Set(value, time)


#############
# Full Usage
#############

stage.SetStartTimeCode(1.0)
stage.SetEndTimeCode(10.0)
sphere = UsdGeom.Sphere.Define(stage, "/World/Sphere")
radius_attr = sphere.GetRadiusAttr()
set_keys(radius_attr, {1.0: 1.0, 5.0: 3.0, 10.0: 1.0})

print(radius_attr.GetTimeSamples())
print(radius_attr.Get(Usd.TimeCode(3.0)))
print(radius_attr.Get(Usd.TimeCode(20.0)))
print(radius_attr.GetTimeSamplesInInterval(Usd.Interval(2, 8)) if hasattr(Usd, "Interval") else radius_attr.GetNumTimeSamples())
print(radius_attr.ValueMightBeTimeVarying())
