# expect: accept
# what: a scaled solar system with nested orbit xforms, rotation keys per planet, and a moon.
from pxr import Gf, UsdGeom

PLANETS = [
    ("Mercury", 0.38, 4.0, 88),
    ("Venus", 0.95, 7.0, 225),
    ("Earth", 1.0, 10.0, 365),
    ("Mars", 0.53, 15.0, 687),
]
stage.SetStartTimeCode(0)
stage.SetEndTimeCode(365)

sun = UsdGeom.Sphere.Define(stage, "/World/SolarSystem/Sun")
sun.CreateRadiusAttr(2.0)
for name, size, distance, period in PLANETS:
    orbit = UsdGeom.Xform.Define(stage, f"/World/SolarSystem/{name}Orbit")
    spin = orbit.AddRotateYOp()
    spin.Set(0.0, 0)
    spin.Set(360.0 * 365 / period, 365)
    planet = UsdGeom.Sphere.Define(stage, f"/World/SolarSystem/{name}Orbit/{name}")
    planet.CreateRadiusAttr(size * 0.5)
    planet.AddTranslateOp().Set(Gf.Vec3d(distance, 0, 0))

moon_orbit = UsdGeom.Xform.Define(stage, "/World/SolarSystem/EarthOrbit/Earth/MoonOrbit")
moon_orbit.AddRotateYOp().Set(0.0, 0)
UsdGeom.Sphere.Define(stage, moon_orbit.GetPath().AppendChild("Moon")).CreateRadiusAttr(0.13)

for name, *_ in PLANETS:
    op = UsdGeom.Xformable(stage.GetPrimAtPath(f"/World/SolarSystem/{name}Orbit")).GetOrderedXformOps()[0]
    print(f"{name:8s} angle at day 100: {op.Get(100) % 360:7.2f}")
print("prims:", len(list(stage.Traverse())))
