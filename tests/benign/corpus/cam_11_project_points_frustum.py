# expect: accept
# what: which props are visible from the shot camera? Project bbox centres through the camera frustum.
from pxr import Gf, Usd, UsdGeom

cam = UsdGeom.Camera.Define(stage, "/World/ShotCam")
cam.AddTranslateOp().Set(Gf.Vec3d(0, 1.5, 10))
cam.CreateFocalLengthAttr(35)
cam.CreateHorizontalApertureAttr(36)
cam.CreateVerticalApertureAttr(24)

for name, pos in {"InFrame": (0, 1, 0), "FarLeft": (-30, 1, 0), "Behind": (0, 1, 20), "Edge": (5, 1, 0)}.items():
    UsdGeom.Sphere.Define(stage, f"/World/Props/{name}").AddTranslateOp().Set(Gf.Vec3d(*pos))

frustum = cam.GetCamera(Usd.TimeCode.Default()).frustum
view_proj = frustum.ComputeViewMatrix() * frustum.ComputeProjectionMatrix()
cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
for prim in stage.GetPrimAtPath("/World/Props").GetChildren():
    centre = cache.ComputeWorldBound(prim).ComputeAlignedRange().GetMidpoint()
    ndc = view_proj.Transform(Gf.Vec3d(centre))
    inside = frustum.Intersects(Gf.Vec3d(centre))
    print(f"{prim.GetName():8s} ndc=({ndc[0]:+.2f}, {ndc[1]:+.2f}) visible={inside}")
