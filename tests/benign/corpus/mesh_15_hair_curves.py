# expect: accept
# what: groom-style cubic BSpline curves growing from a grid of roots with seeded wobble, with tapering widths.
import random

from pxr import Gf, UsdGeom, Vt

rng = random.Random(5)
ROOTS, CVS, LENGTH = 36, 6, 0.6
points, counts, widths = [], [], []
for r in range(ROOTS):
    base = Gf.Vec3f((r % 6) * 0.1, 0, (r // 6) * 0.1)
    bend = Gf.Vec3f(rng.uniform(-0.05, 0.05), 0, rng.uniform(-0.05, 0.05))
    for c in range(CVS):
        t = c / (CVS - 1)
        points.append(base + Gf.Vec3f(0, LENGTH * t, 0) + bend * (t * t * 4))
        widths.append(0.01 * (1 - 0.8 * t))
    counts.append(CVS)

hair = UsdGeom.BasisCurves.Define(stage, "/World/Groom/Hair")
hair.CreateTypeAttr(UsdGeom.Tokens.cubic)
hair.CreateBasisAttr(UsdGeom.Tokens.bspline)
hair.CreateWrapAttr(UsdGeom.Tokens.pinned)
hair.CreatePointsAttr(Vt.Vec3fArray(points))
hair.CreateCurveVertexCountsAttr(Vt.IntArray(counts))
hair.CreateWidthsAttr(Vt.FloatArray(widths))
hair.SetWidthsInterpolation(UsdGeom.Tokens.vertex)

print("curves:", len(hair.GetCurveVertexCountsAttr().Get()))
print("segments per curve:", hair.GetCurveSegmentCounts(0)[0] if hasattr(hair, "GetCurveSegmentCounts") else "n/a")
print("basis:", hair.GetBasisAttr().Get(), "wrap:", hair.GetWrapAttr().Get())
