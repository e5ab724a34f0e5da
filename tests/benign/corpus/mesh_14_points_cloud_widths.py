# expect: accept
# what: a point cloud (UsdGeom.Points) sampled on a sphere with per-point widths and colors (golden-angle spiral).
import math

from pxr import Gf, UsdGeom, Vt

N = 400
golden = math.pi * (3 - math.sqrt(5))
pts, widths, colors = [], [], []
for i in range(N):
    y = 1 - 2 * (i + 0.5) / N
    r = math.sqrt(1 - y * y)
    theta = golden * i
    pts.append(Gf.Vec3f(r * math.cos(theta), y, r * math.sin(theta)) * 2.0)
    widths.append(0.02 + 0.03 * (1 - abs(y)))
    colors.append(Gf.Vec3f((y + 1) / 2, 0.3, 1 - (y + 1) / 2))

cloud = UsdGeom.Points.Define(stage, "/World/Cloud")
cloud.CreatePointsAttr(Vt.Vec3fArray(pts))
cloud.CreateWidthsAttr(Vt.FloatArray(widths))
cloud.SetWidthsInterpolation(UsdGeom.Tokens.vertex)
cloud.CreateDisplayColorPrimvar(UsdGeom.Tokens.vertex).Set(Vt.Vec3fArray(colors))
cloud.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(cloud.GetPointsAttr().Get()))

print("points:", len(cloud.GetPointsAttr().Get()))
print("widths interpolation:", cloud.GetWidthsInterpolation())
print("extent:", cloud.GetExtentAttr().Get())
