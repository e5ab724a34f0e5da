# expect: accept
# what: a wrapper class exposing a light's intensity/color as Python properties with setters and validation.
from pxr import Gf, UsdLux


class Lamp:
    def __init__(self, stage, path: str):
        self._light = UsdLux.SphereLight.Define(stage, path)
        self._light.CreateIntensityAttr(100.0)
        self._light.CreateColorAttr(Gf.Vec3f(1, 1, 1))

    @property
    def intensity(self) -> float:
        return self._light.GetIntensityAttr().Get()

    @intensity.setter
    def intensity(self, value: float) -> None:
        if value < 0:
            raise ValueError("intensity cannot be negative")
        self._light.GetIntensityAttr().Set(float(value))

    @property
    def color(self) -> tuple:
        return tuple(round(c, 3) for c in self._light.GetColorAttr().Get())

    @color.setter
    def color(self, rgb) -> None:
        self._light.GetColorAttr().Set(Gf.Vec3f(*rgb))

    def __str__(self) -> str:
        return f"Lamp({self._light.GetPath().name}: {self.intensity:.0f} @ {self.color})"


lamp = Lamp(stage, "/World/Lamp")
lamp.intensity = 750
lamp.color = (1.0, 0.85, 0.6)
try:
    lamp.intensity = -5
except ValueError as exc:
    print("rejected:", exc)
print(lamp)
