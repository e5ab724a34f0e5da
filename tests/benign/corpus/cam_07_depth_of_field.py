# expect: accept
# what: configure depth of field by focusing a camera on a named prim using the bbox centre distance.
from pxr import Gf, Usd, UsdGeom

subject = UsdGeom.Sphere.Define(stage, "/World/Subject")
subject.CreateRadiusAttr(0.5)
subject.AddTranslateOp().Set(Gf.Vec3d(1, 1, -6))

cam = UsdGeom.Camera.Define(stage, "/World/ShotCam")
cam.AddTranslateOp().Set(Gf.Vec3d(0, 1.2, 4))
cam.CreateFocalLengthAttr(85.0)

bbox_cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
center = bbox_cache.ComputeWorldBound(subject.GetPrim()).ComputeAlignedRange().GetMidpoint()
cam_pos = cam.ComputeLocalToWorldTransform(Usd.TimeCode.Default()).ExtractTranslation()
distance = (Gf.Vec3d(center) - cam_pos).GetLength()

cam.CreateFocusDistanceAttr(round(distance, 4))
cam.CreateFStopAttr(1.8)
print(f"subject centre {tuple(round(c, 3) for c in center)}")
print(f"focus distance {cam.GetFocusDistanceAttr().Get():.3f}, f/{cam.GetFStopAttr().Get()}")
