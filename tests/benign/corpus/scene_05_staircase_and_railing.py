# expect: accept
# what: a straight staircase with a railing: steps from rise/run rules, posts every other step, a rail mesh.
import math

from pxr import Gf, UsdGeom, Vt

TOTAL_RISE, MAX_RISER = 2.8, 0.18
steps = math.ceil(TOTAL_RISE / MAX_RISER)
riser = TOTAL_RISE / steps
tread = 0.63 - 2 * riser  # Blondel's rule

stair = UsdGeom.Xform.Define(stage, "/World/Stair")
for i in range(steps):
    step = UsdGeom.Cube.Define(stage, f"/World/Stair/Step_{i:02d}")
    step.CreateSizeAttr(1.0)
    step.AddTranslateOp().Set(Gf.Vec3d(0, riser * (i + 0.5), tread * (i + 0.5)))
    step.AddScaleOp().Set(Gf.Vec3f(1.0, riser, tread))

posts = []
for i in range(0, steps, 2):
    post = UsdGeom.Cylinder.Define(stage, f"/World/Stair/Railing/Post_{i:02d}")
    post.CreateRadiusAttr(0.02)
    post.CreateHeightAttr(0.9)
    top = Gf.Vec3f(0.5, riser * (i + 1) + 0.9, tread * (i + 0.5))
    post.AddTranslateOp().Set(Gf.Vec3d(0.5, riser * (i + 1) + 0.45, tread * (i + 0.5)))
    posts.append(top)

rail = UsdGeom.BasisCurves.Define(stage, "/World/Stair/Railing/Rail")
rail.CreateTypeAttr(UsdGeom.Tokens.linear)
rail.CreatePointsAttr(Vt.Vec3fArray(posts))
rail.CreateCurveVertexCountsAttr([len(posts)])
rail.CreateWidthsAttr([0.04])

print(f"{steps} steps, riser {riser * 100:.1f} cm, tread {tread * 100:.1f} cm")
print("posts:", len(posts), "rail points:", len(rail.GetPointsAttr().Get()))
print("stair length: %.2f m" % (steps * tread))
