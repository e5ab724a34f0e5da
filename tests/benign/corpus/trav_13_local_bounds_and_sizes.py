# expect: accept
# what: local bounds of gprims and a size report sorted by volume.
from pxr import Usd, UsdGeom, Gf

sizes = {"Small": 0.5, "Medium": 1.0, "Large": 2.0}
for name, size in sizes.items():
    c = UsdGeom.Cube.Define(stage, f"/World/Boxes2/{name}")
    c.CreateSizeAttr(size)
    c.CreateExtentAttr([Gf.Vec3f(-size / 2), Gf.Vec3f(size / 2)])
cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default"], useExtentsHint=False)
report = []
for prim in stage.GetPrimAtPath("/World/Boxes2").GetChildren():
    rng = cache.ComputeLocalBound(prim).ComputeAlignedRange()
    dims = rng.GetSize()
    report.append((prim.GetName(), round(dims[0] * dims[1] * dims[2], 3)))
for name, vol in sorted(report, key=lambda r: r[1]):
    print(f"{name:<7}{vol:>8.3f}")
