# expect: accept
# what: a seeded random.Random instance used for shuffle/sample/choices/gauss when dressing a set.
import random

from pxr import Gf, UsdGeom

rng = random.Random(31337)
slots = [(x, z) for x in range(-3, 4) for z in range(-3, 4)]
rng.shuffle(slots)
props = ["Vase", "Book", "Candle", "Bowl", "Clock"]
chosen = rng.sample(props, k=3)
picks = rng.choices(chosen, weights=[5, 3, 1], k=10)

for i, (name, (x, z)) in enumerate(zip(picks, slots)):
    prim = UsdGeom.Cube.Define(stage, f"/World/Dressing/{name}_{i:02d}")
    jitter = Gf.Vec3d(rng.gauss(0, 0.05), 0, rng.gauss(0, 0.05))
    prim.AddTranslateOp().Set(Gf.Vec3d(x, 0.5, z) + jitter)
    prim.AddRotateYOp().Set(rng.uniform(0, 360))

print("chosen:", chosen)
print("picks:", picks)
print("first slot:", slots[0], "rotation: %.2f" % UsdGeom.Xformable(
    stage.GetPrimAtPath("/World/Dressing/" + f"{picks[0]}_00")).GetOrderedXformOps()[1].Get())
