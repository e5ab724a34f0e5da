# expect: accept
# what: a decorator-based registry of "generators" (function -> name), then run the ones the user asked for.
from pxr import Gf, UsdGeom

GENERATORS = {}


def generator(name):
    def register(fn):
        GENERATORS[name] = fn
        return fn
    return register


@generator("pyramid")
def make_pyramid(root, levels=4):
    count = 0
    for lvl in range(levels):
        n = levels - lvl
        for i in range(n):
            cube = UsdGeom.Cube.Define(stage, f"{root}/L{lvl}_{i}")
            cube.AddTranslateOp().Set(Gf.Vec3d(i - n / 2 + 0.5, lvl + 0.5, 0))
            cube.AddScaleOp().Set(Gf.Vec3f(0.48, 0.48, 0.48))
            count += 1
    return count


@generator("row")
def make_row(root, length=6):
    for i in range(length):
        UsdGeom.Sphere.Define(stage, f"{root}/S{i}").AddTranslateOp().Set(Gf.Vec3d(i, 0.5, 3))
    return length


request = ["pyramid", "row", "spiral"]
for name in request:
    fn = GENERATORS.get(name)
    if fn is None:
        print(f"unknown generator {name!r}; available: {', '.join(sorted(GENERATORS))}")
        continue
    n = fn(f"/World/Gen/{name.title()}")
    print(f"{name}: {n} prims ({fn.__name__})")
