# expect: accept
# what: world bounding boxes with UsdGeom.BBoxCache.
from pxr import Usd, UsdGeom, Gf

box = UsdGeom.Cube.Define(stage, "/World/BBoxCube")
box.CreateSizeAttr(2.0)
box.AddTranslateOp().Set(Gf.Vec3d(5, 0, 0))
box.CreateExtentAttr([(-1, -1, -1), (1, 1, 1)])
cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
bound = cache.ComputeWorldBound(box.GetPrim())
rng = bound.ComputeAlignedRange()
print("min", rng.GetMin(), "max", rng.GetMax(), "center", rng.GetMidpoint())
