# expect: accept
# what: functools.partial for preconfigured builders, reduce for bound union, accumulate for running totals.
from functools import partial, reduce
from itertools import accumulate

from pxr import Gf, Usd, UsdGeom


def make_post(stage, path, height, radius=0.05, x=0.0):
    post = UsdGeom.Cylinder.Define(stage, path)
    post.CreateHeightAttr(height)
    post.CreateRadiusAttr(radius)
    post.AddTranslateOp().Set(Gf.Vec3d(x, height / 2, 0))
    return post


thin_post = partial(make_post, stage, radius=0.03)
heights = [1.0, 1.2, 1.5, 1.1, 0.9]
posts = [thin_post(f"/World/Posts/P{i}", h, x=i * 0.5) for i, h in enumerate(heights)]

cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
ranges = [cache.ComputeWorldBound(p.GetPrim()).ComputeAlignedRange() for p in posts]
union = reduce(lambda a, b: Gf.Range3d.GetUnion(a, b), ranges)
running = list(accumulate(heights))

print("posts:", len(posts), "radius:", posts[0].GetRadiusAttr().Get())
print("union min", union.GetMin(), "max", union.GetMax())
print("running height:", [round(v, 2) for v in running])
