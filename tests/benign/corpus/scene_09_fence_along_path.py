# expect: accept
# what: place fence posts at even arc-length spacing along a polyline path, and rails between them.
import math

from pxr import Gf, UsdGeom

PATH = [(0, 0), (10, 0), (14, 6), (14, 12), (6, 15)]
SPACING = 2.0


def resample(points, spacing):
    out = [points[0]]
    carry = 0.0
    for (x0, z0), (x1, z1) in zip(points, points[1:]):
        seg = math.hypot(x1 - x0, z1 - z0)
        d = spacing - carry
        while d <= seg:
            t = d / seg
            out.append((x0 + (x1 - x0) * t, z0 + (z1 - z0) * t))
            d += spacing
        carry = seg - (d - spacing)
    return out


posts = resample(PATH, SPACING)
for i, (x, z) in enumerate(posts):
    post = UsdGeom.Cube.Define(stage, f"/World/Fence/Post_{i:02d}")
    post.AddTranslateOp().Set(Gf.Vec3d(x, 0.5, z))
    post.AddScaleOp().Set(Gf.Vec3f(0.05, 0.5, 0.05))

for i, ((x0, z0), (x1, z1)) in enumerate(zip(posts, posts[1:])):
    rail = UsdGeom.Cube.Define(stage, f"/World/Fence/Rail_{i:02d}")
    rail.AddTranslateOp().Set(Gf.Vec3d((x0 + x1) / 2, 0.8, (z0 + z1) / 2))
    rail.AddRotateYOp().Set(-math.degrees(math.atan2(z1 - z0, x1 - x0)))
    rail.AddScaleOp().Set(Gf.Vec3f(math.hypot(x1 - x0, z1 - z0) / 2, 0.03, 0.02))

total = sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(PATH, PATH[1:]))
print(f"path length {total:.2f}, {len(posts)} posts, {len(posts) - 1} rails")
