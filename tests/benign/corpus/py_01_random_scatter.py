# expect: accept
# what: scatter instances with a seeded random generator.
import random
from pxr import UsdGeom, Gf

random.seed(1234)
for i in range(15):
    pebble = UsdGeom.Sphere.Define(stage, f"/World/Scatter/Pebble{i}")
    pebble.CreateRadiusAttr(round(random.uniform(0.05, 0.2), 4))
    x, z = random.uniform(-5, 5), random.uniform(-5, 5)
    pebble.AddTranslateOp().Set(Gf.Vec3d(round(x, 4), 0, round(z, 4)))
print(len(stage.GetPrimAtPath("/World/Scatter").GetChildren()), "pebbles")
