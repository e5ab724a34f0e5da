# expect: accept
# what: a points cloud and basis curves.
from pxr import UsdGeom, Gf

cloud = UsdGeom.Points.Define(stage, "/World/Cloud")
cloud.CreatePointsAttr([Gf.Vec3f(i * 0.1, (i % 7) * 0.05, 0) for i in range(50)])
cloud.CreateWidthsAttr([0.02] * 50)
curves = UsdGeom.BasisCurves.Define(stage, "/World/Hair")
curves.CreateTypeAttr(UsdGeom.Tokens.linear)
curves.CreateCurveVertexCountsAttr([3, 3])
curves.CreatePointsAttr([(0, 0, 0), (0, 1, 0), (0, 2, 0.2), (1, 0, 0), (1, 1, 0), (1, 2, -0.2)])
curves.CreateWidthsAttr([0.01])
print(len(cloud.GetPointsAttr().Get()), "points,", len(curves.GetCurveVertexCountsAttr().Get()), "curves")
