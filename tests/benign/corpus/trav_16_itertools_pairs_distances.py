# expect: accept
# what: find prims that are too close to each other (pairwise distances via itertools.combinations).
import itertools
import math

from pxr import Gf, Usd, UsdGeom

positions = [(0, 0, 0), (0.3, 0, 0.1), (4, 0, 0), (4.2, 0, 0.4), (8, 0, 0), (0, 0, 5)]
for i, pos in enumerate(positions):
    UsdGeom.Sphere.Define(stage, f"/World/Trees/Tree{i}").AddTranslateOp().Set(Gf.Vec3d(*pos))

MIN_DIST = 0.8
world = {
    p.GetName(): UsdGeom.Xformable(p).ComputeLocalToWorldTransform(Usd.TimeCode.Default()).ExtractTranslation()
    for p in stage.GetPrimAtPath("/World/Trees").GetChildren()
}
too_close = [
    (a, b, round((world[a] - world[b]).GetLength(), 3))
    for a, b in itertools.combinations(sorted(world), 2)
    if (world[a] - world[b]).GetLength() < MIN_DIST
]
print("pairs checked:", math.comb(len(world), 2))
for a, b, d in too_close:
    print(f"  {a} <-> {b}: {d}")
nearest = min(itertools.permutations(world, 2), key=lambda ab: (world[ab[0]] - world[ab[1]]).GetLength())
print("nearest pair:", sorted(nearest))
