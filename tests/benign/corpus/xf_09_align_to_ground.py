# expect: accept
# what: drop props onto the ground plane: compute each world bbox and translate so that min y is 0.
from pxr import Gf, Usd, UsdGeom

specs = [("Crate", UsdGeom.Cube, (0, 3.0, 0)), ("Ball", UsdGeom.Sphere, (2, 5.5, 0)), ("Barrel", UsdGeom.Cylinder, (-2, 1.2, 1))]
for name, schema, pos in specs:
    prim = schema.Define(stage, f"/World/Props/{name}")
    prim.AddTranslateOp().Set(Gf.Vec3d(*pos))

cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
for prim in stage.GetPrimAtPath("/World/Props").GetChildren():
    xf = UsdGeom.Xformable(prim)
    min_y = cache.ComputeWorldBound(prim).ComputeAlignedRange().GetMin()[1]
    op = xf.GetOrderedXformOps()[0]
    current = op.Get()
    op.Set(Gf.Vec3d(current[0], current[1] - min_y, current[2]))
    cache.Clear()
    new_min = cache.ComputeWorldBound(prim).ComputeAlignedRange().GetMin()[1]
    print(f"{prim.GetName():7s} moved {-min_y:+.3f} -> min y {new_min:.3f}")
