# expect: accept
# what: comprehension-heavy reporting with the walrus operator, dict/set comprehensions and any/all.
from pxr import Gf, UsdGeom

sizes = [0.5, 1.0, 2.5, 0.1, 4.0, 1.5]
for i, s in enumerate(sizes):
    c = UsdGeom.Cube.Define(stage, f"/World/Boxes/B{i}")
    c.CreateSizeAttr(s)
    c.AddTranslateOp().Set(Gf.Vec3d(i * 5, s / 2, 0))

cubes = [UsdGeom.Cube(p) for p in stage.Traverse() if p.IsA(UsdGeom.Cube)]
big = {c.GetPath().name: v for c in cubes if (v := c.GetSizeAttr().Get()) > 1.0}
volumes = {c.GetPath().name: round(c.GetSizeAttr().Get() ** 3, 3) for c in cubes}
buckets = {("small" if v < 1 else "large") for v in volumes.values()}

print("big:", big)
print("volumes:", volumes)
print("buckets:", sorted(buckets))
print("all positive:", all(v > 0 for v in volumes.values()), "any huge:", any(v > 50 for v in volumes.values()))
