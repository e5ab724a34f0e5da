# expect: accept
# what: a reusable studio lighting rig class (key/fill/rim rect lights aimed at a target), TD style.
import math

from pxr import Gf, UsdGeom, UsdLux


class LightRig:
    """Three rect lights on a circle around a target, each rotated to face it."""

    def __init__(self, stage, root: str, target=(0.0, 1.0, 0.0), radius: float = 6.0):
        self.stage = stage
        self.root = UsdGeom.Xform.Define(stage, root)
        self.target = Gf.Vec3d(*target)
        self.radius = radius
        self.lights = {}

    def add(self, name: str, azimuth_deg: float, height: float, intensity: float, color=(1, 1, 1)):
        az = math.radians(azimuth_deg)
        pos = Gf.Vec3d(self.target[0] + self.radius * math.sin(az), height,
                       self.target[2] + self.radius * math.cos(az))
        light = UsdLux.RectLight.Define(self.stage, self.root.GetPath().AppendChild(name))
        light.CreateWidthAttr(2.0)
        light.CreateHeightAttr(1.0)
        light.CreateIntensityAttr(intensity)
        light.CreateColorAttr(Gf.Vec3f(*color))
        xf = UsdGeom.Xformable(light.GetPrim())
        xf.AddTranslateOp().Set(pos)
        xf.AddRotateYOp().Set(azimuth_deg)
        tilt = math.degrees(math.atan2(height - self.target[1], self.radius))
        xf.AddRotateXOp().Set(-tilt)
        self.lights[name] = light
        return light

    def __repr__(self):
        return f"LightRig({self.root.GetPath()}, {len(self.lights)} lights)"


rig = LightRig(stage, "/World/Rig")
rig.add("Key", 45, 4.0, 3000, (1.0, 0.95, 0.9))
rig.add("Fill", -60, 2.5, 800, (0.85, 0.9, 1.0))
rig.add("Rim", 180, 5.0, 1500)
print(rig)
for name, light in rig.lights.items():
    print(f"{name}: intensity={light.GetIntensityAttr().Get():.0f} ops={[op.GetOpName() for op in UsdGeom.Xformable(light).GetOrderedXformOps()]}")
